// Clients and keys through the admin API: create, edit limits, (de)activate,
// issue, rotate and revoke keys. A new key is shown once, as the API returns it.

import { call } from "./api.js";
import { $, busy, errorBox, fmt, h, replace, table, toast } from "./dom.js";

let selected = null;

export function setupAdmin() {
  $("#c-reload").addEventListener("click", () => loadClients());
  $("#c-create").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const body = limitsFrom(form, false);
    body.name = form.elements.name.value;
    busy(form, true);
    try {
      const { data } = await call("/api/v1/admin/clients", { method: "POST", json: body });
      form.reset();
      toast(`Client ${data.name} created`);
      selected = data.id;
      await loadClients();
    } catch (err) {
      showError(err);
    } finally {
      busy(form, false);
    }
  });
}

function limitsFrom(form, keepEmptyAsNull) {
  const body = {};
  for (const name of ["rpm_limit", "tpd_limit", "monthly_budget_usd"]) {
    const raw = form.elements[name].value.trim();
    if (raw === "") {
      if (keepEmptyAsNull && form.elements[name].dataset.was !== "") body[name] = null;
      continue;
    }
    body[name] = name === "monthly_budget_usd" ? Number(raw) : Math.trunc(Number(raw));
  }
  return body;
}

function showError(err) {
  const box = $("#c-error");
  box.hidden = false;
  replace(box, errorBox(err));
}

export async function loadClients() {
  $("#c-error").hidden = true;
  try {
    const { data } = await call("/api/v1/admin/clients", { query: { limit: 200 } });
    replace($("#c-table"), table([
      { label: "Name", value: (c) => c.name },
      { label: "Id", value: (c) => h("code", {}, c.id) },
      { label: "Req/min", num: true, value: (c) => fmt.int(c.effective.rpm_limit) },
      { label: "Tokens/day", num: true, value: (c) => fmt.int(c.effective.tpd_limit) },
      { label: "Budget/month", num: true, value: (c) => fmt.usd(c.effective.monthly_budget_usd) },
      { label: "Status", value: (c) => h("span", { class: `pill ${c.active ? "ok" : "bad"}` }, c.active ? "active" : "deactivated") },
      { label: "", value: (c) => h("button", { type: "button", class: "ghost small", onclick: () => openClient(c.id) }, "Manage") },
    ], data.items, {
      rowAttrs: (c) => ({ class: c.id === selected ? "selected" : null, dataset: { clientId: c.id } }),
    }));
    if (selected) await openClient(selected);
  } catch (err) {
    showError(err);
  }
}

async function openClient(id) {
  selected = id;
  for (const row of document.querySelectorAll("#c-table tr[data-client-id]")) {
    row.classList.toggle("selected", row.dataset.clientId === id);
  }
  const box = $("#c-detail");
  try {
    const [{ data: c }, { data: keys }] = await Promise.all([
      call(`/api/v1/admin/clients/${id}`),
      call(`/api/v1/admin/clients/${id}/keys`),
    ]);
    replace(box, clientDetail(c), keyList(c, keys));
  } catch (err) {
    replace(box, errorBox(err));
  }
}

function numberInput(name, value, label, step = "1") {
  return h("label", { class: "inline" }, label,
    h("input", { name, type: "number", min: name === "monthly_budget_usd" ? "0" : "1", step,
      value: value ?? "", placeholder: "default", dataset: { was: value ?? "" } }));
}

function clientDetail(c) {
  const form = h("form", { class: "stack" },
    h("div", { class: "row" },
      numberInput("rpm_limit", c.rpm_limit, "Req/min"),
      numberInput("tpd_limit", c.tpd_limit, "Tokens/day"),
      numberInput("monthly_budget_usd", c.monthly_budget_usd, "Budget $", "0.01")),
    h("div", { class: "row" },
      h("button", { type: "submit" }, "Save limits"),
      h("button", { type: "button", class: c.active ? "danger" : "ghost", onclick: () => setActive(c, !c.active) },
        c.active ? "Deactivate" : "Activate")),
    h("p", { class: "hint" }, "Empty a field to fall back to the platform default."));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = limitsFrom(form, true);
    if (!Object.keys(body).length) { toast("Nothing changed"); return; }
    try {
      await call(`/api/v1/admin/clients/${c.id}`, { method: "PATCH", json: body });
      toast("Limits saved; they apply to the next request");
      await loadClients();
    } catch (err) {
      showError(err);
    }
  });
  return h("div", {},
    h("h2", {}, c.name),
    h("p", { class: "hint" }, h("code", {}, c.id), ` · ${fmt.int(c.active_keys)} active keys · this month `,
      `${fmt.int(c.month_to_date_requests)} requests, ${fmt.usd(c.month_to_date_cost_usd)}`),
    form);
}

async function setActive(c, active) {
  try {
    await call(`/api/v1/admin/clients/${c.id}/${active ? "activate" : "deactivate"}`, { method: "POST" });
    toast(active ? "Client activated" : "Client deactivated: its keys stop working now");
    await loadClients();
  } catch (err) {
    showError(err);
  }
}

function keyList(c, keys) {
  const secret = h("div", { id: "c-secret" });
  const issue = h("form", { class: "row" },
    h("input", { name: "name", placeholder: "Key name", value: "default", "aria-label": "Key name" }),
    h("input", { name: "expires_in_days", type: "number", min: "1", placeholder: "Expires in days", "aria-label": "Expiry in days" }),
    h("label", { class: "inline" }, h("input", { type: "checkbox", name: "admin" }), "admin"),
    h("button", { type: "submit" }, "Issue key"));
  issue.addEventListener("submit", async (e) => {
    e.preventDefault();
    const days = issue.elements.expires_in_days.value;
    const body = { name: issue.elements.name.value || "default", admin: issue.elements.admin.checked };
    if (days) body.expires_in_days = Number(days);
    try {
      const { data } = await call(`/api/v1/admin/clients/${c.id}/keys`, { method: "POST", json: body });
      await openClient(c.id);
      showSecret(data);
    } catch (err) {
      showError(err);
    }
  });
  const action = async (key, verb) => {
    try {
      const { data } = await call(`/api/v1/admin/clients/${c.id}/keys/${key.id}/${verb}`, { method: "POST" });
      await openClient(c.id);
      if (verb === "rotate") showSecret(data);
      else toast(`Key ${key.prefix} revoked`);
    } catch (err) {
      showError(err);
    }
  };
  return h("div", {},
    h("h3", {}, "Keys"),
    secret,
    table([
      { label: "Name", value: (k) => k.name },
      { label: "Prefix", value: (k) => h("code", {}, k.prefix) },
      { label: "Status", value: (k) => h("span", { class: `pill ${k.status === "active" ? "ok" : "bad"}` }, k.status) },
      { label: "Admin", value: (k) => (k.admin ? "yes" : "") },
      { label: "Created", value: (k) => fmt.when(k.created_at) },
      {
        label: "",
        value: (k) => (k.status === "active"
          ? h("span", { class: "actions" },
              h("button", { type: "button", class: "ghost small", onclick: () => action(k, "rotate") }, "Rotate"),
              h("button", { type: "button", class: "danger small", onclick: () => action(k, "revoke") }, "Revoke"))
          : ""),
      },
    ], keys, { empty: "No keys." }),
    issue);
}

function showSecret(issued) {
  const box = $("#c-secret");
  if (!box) return;
  const copy = h("button", { type: "button", class: "ghost small" }, "Copy");
  copy.addEventListener("click", async () => {
    await navigator.clipboard.writeText(issued.key);
    toast("Copied");
  });
  replace(box, h("p", { class: "hint" }, "The new key, shown once — store it now:"),
    h("div", { class: "secret" }, issued.key), copy);
}
