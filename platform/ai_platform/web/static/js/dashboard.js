// Usage dashboard: the ledger's aggregates for the caller (or, for an admin key,
// every tenant or one of them), latency percentiles, budget and rate-limit headroom.

import { call, limits, onLimits } from "./api.js";
import { barChart } from "./charts.js";
import { $, errorBox, fmt, h, replace, table } from "./dom.js";

const RECENT = 200;
let state = { me: null, admin: false };

export function setupDashboard(me) {
  state = { me, admin: me.scopes.includes("admin") };
  $("#d-scope-box").hidden = !state.admin;
  $("#d-clients-card").hidden = !state.admin;
  $("#d-refresh").addEventListener("click", () => refresh());
  $("#d-window").addEventListener("change", () => refresh());
  $("#d-scope").addEventListener("change", () => refresh());
  onLimits(() => renderHeadroom());
}

export async function loadScopes() {
  if (!state.admin) return;
  const select = $("#d-scope");
  const current = select.value;
  const { data } = await call("/api/v1/admin/clients", { query: { limit: 200 } });
  replace(
    select,
    h("option", { value: "" }, "All tenants"),
    data.items.map((c) => h("option", { value: c.id }, `${c.name} (${c.id.slice(0, 12)}…)`)),
  );
  select.value = current;
}

function isoDay(d) { return d.toISOString().slice(0, 10); }

function windowDays() {
  const days = Number($("#d-window").value);
  const end = new Date();
  const start = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate() - (days - 1)));
  const monthStart = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1));
  return { start: isoDay(start), end: isoDay(end), monthStart: isoDay(monthStart) };
}

// Linear between closest ranks (numpy's default), like ai_platform.harness.stats.
export function percentile(values, p) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export async function refresh() {
  const box = $("#view-dashboard");
  box.dataset.loading = "true";
  $("#d-error").hidden = true;
  const { start, end, monthStart } = windowDays();
  const clientId = state.admin ? $("#d-scope").value : "";
  const range = $("#d-range");
  range.textContent = `${start} → ${end} (UTC)`;
  range.dataset.start = start;
  range.dataset.end = end;
  range.dataset.clientId = clientId;
  const usagePath = state.admin ? "/api/v1/admin/usage" : "/api/v1/usage";
  const recentPath = state.admin ? "/api/v1/admin/usage/requests" : "/api/v1/usage/recent";
  const scoped = state.admin && clientId ? { client_id: clientId } : {};
  const report = (group_by, extra = {}) =>
    call(usagePath, { query: { group_by, start, end, ...scoped, ...extra } }).then((r) => r.data);
  try {
    const [byDay, byService, byModel, recent, month, clients] = await Promise.all([
      report("day"),
      report("service"),
      report("model"),
      call(recentPath, { query: { start, end, limit: RECENT, ...scoped } }).then((r) => r.data),
      call(usagePath, { query: { group_by: state.admin ? "client" : "service", start: monthStart, end, ...scoped } })
        .then((r) => r.data),
      state.admin ? call("/api/v1/admin/clients", { query: { limit: 200 } }).then((r) => r.data.items) : null,
    ]);
    render({ byDay, byService, byModel, recent, month, clients, clientId });
  } catch (err) {
    const box2 = $("#d-error");
    box2.hidden = false;
    replace(box2, errorBox(err));
  } finally {
    box.dataset.loading = "false";
    box.dataset.refreshed = String(Number(box.dataset.refreshed ?? 0) + 1);
  }
}

function kpi(name, label, value, display, sub) {
  return h(
    "div",
    { class: "kpi", dataset: { kpi: name, value: value ?? "" } },
    h("div", { class: "label" }, label),
    h("div", { class: "value" }, display),
    sub ? h("div", { class: "sub" }, sub) : null,
  );
}

function budgetOf({ month, clients, clientId }) {
  if (!state.admin) {
    return { used: month.totals.cost_usd, budget: state.me.monthly_budget_usd };
  }
  const spent = new Map(month.rows.map((r) => [r.key, r.cost_usd]));
  const chosen = clientId ? clients.filter((c) => c.id === clientId) : clients;
  return {
    used: chosen.reduce((sum, c) => sum + (spent.get(c.id) ?? 0), 0),
    budget: chosen.reduce((sum, c) => sum + c.effective.monthly_budget_usd, 0),
  };
}

function render(data) {
  const { byDay, byService, byModel, recent } = data;
  const t = byService.totals;
  const latencies = recent.items.map((r) => r.latency_ms);
  const p50 = percentile(latencies, 50);
  const p95 = percentile(latencies, 95);
  const { used, budget } = budgetOf(data);
  const share = budget > 0 ? Math.min(100, (100 * used) / budget) : 0;
  const bar = h("div", { class: "bar" }, h("div", { class: `fill ${share > 90 ? "bad" : share > 70 ? "warn" : ""}` }));
  bar.firstChild.style.width = `${share}%`;
  replace(
    $("#d-kpis"),
    kpi("requests", "Requests", t.requests, fmt.int(t.requests), `${fmt.int(t.errors)} errors`),
    kpi("cost", "Cost", t.cost_usd, fmt.usd(t.cost_usd), "USD, from the ledger"),
    kpi("tokens", "Tokens", t.total_tokens, fmt.int(t.total_tokens),
      `${fmt.int(t.prompt_tokens)} in / ${fmt.int(t.completion_tokens)} out`),
    kpi("p50", "Latency p50", p50, fmt.ms(p50), `of the latest ${latencies.length} requests`),
    kpi("p95", "Latency p95", p95, fmt.ms(p95), `mean ${fmt.ms(t.avg_latency_ms)} over the window`),
    h("div", { class: "kpi", dataset: { kpi: "budget", value: used } },
      h("div", { class: "label" }, "Budget this month"),
      h("div", { class: "value" }, fmt.usd(used)),
      bar,
      h("div", { class: "sub" },
        `of ${fmt.usd(budget)}: ${fmt.usd(Math.max(0, budget - used))} left (${fmt.pct(share)} used)`)),
    h("div", { class: "kpi", id: "d-headroom", dataset: { kpi: "headroom" } }),
  );
  renderHeadroom();

  replace($("#d-cost-chart"), barChart(byDay.rows.map((r) => ({ label: r.key, value: r.cost_usd })), fmt.usd));
  replace($("#d-req-chart"), barChart(byDay.rows.map((r) => ({ label: r.key, value: r.requests })), fmt.int));

  const groupColumns = (label) => [
    { label, value: (r) => r.key ?? "(no model call)" },
    { label: "Requests", num: true, value: (r) => fmt.int(r.requests) },
    { label: "Errors", num: true, value: (r) => fmt.int(r.errors) },
    { label: "Tokens", num: true, value: (r) => fmt.int(r.total_tokens) },
    { label: "Cost", num: true, value: (r) => fmt.usd(r.cost_usd) },
    { label: "Mean latency", num: true, value: (r) => fmt.ms(r.avg_latency_ms) },
  ];
  const keyed = (r) => ({ dataset: { key: r.key ?? "", requests: r.requests, cost: r.cost_usd } });
  replace($("#d-services"), table(groupColumns("Service"), byService.rows, { rowAttrs: keyed }));
  replace($("#d-models"), table(groupColumns("Model"), byModel.rows, { rowAttrs: keyed }));

  if (state.admin) renderClients(data);

  const ledgerColumns = [
    { label: "When (UTC)", value: (r) => fmt.when(r.created_at) },
    { label: "Service", value: (r) => r.service },
    { label: "Status", value: (r) => h("span", { class: `pill ${r.status_code < 400 ? "ok" : "bad"}` }, r.status_code) },
    { label: "Tokens", num: true, value: (r) => fmt.int(r.prompt_tokens + r.completion_tokens) },
    { label: "Cost", num: true, value: (r) => fmt.usd(r.cost_usd) },
    { label: "Latency", num: true, value: (r) => fmt.ms(r.latency_ms) },
    { label: "Request", value: (r) => h("code", {}, r.request_id) },
  ];
  const flagged = recent.items.filter((r) => r.flagged);
  replace($("#d-flagged"), table(ledgerColumns, flagged, {
    empty: `No flagged request among the latest ${recent.items.length}.`,
  }));
  replace($("#d-recent"), table(ledgerColumns, recent.items.slice(0, 15)));
}

function renderClients({ month, clients }) {
  const spent = new Map(month.rows.map((r) => [r.key, r]));
  const rows = clients.map((c) => ({ client: c, usage: spent.get(c.id) }));
  rows.sort((a, b) => (b.usage?.cost_usd ?? 0) - (a.usage?.cost_usd ?? 0));
  replace($("#d-clients"), table([
    { label: "Tenant", value: (r) => r.client.name },
    { label: "Requests", num: true, value: (r) => fmt.int(r.usage?.requests ?? 0) },
    { label: "Cost", num: true, value: (r) => fmt.usd(r.usage?.cost_usd ?? 0) },
    { label: "Budget", num: true, value: (r) => fmt.usd(r.client.effective.monthly_budget_usd) },
    {
      label: "Used",
      num: true,
      value: (r) => {
        const budget = r.client.effective.monthly_budget_usd;
        const used = budget > 0 ? (100 * (r.usage?.cost_usd ?? 0)) / budget : 0;
        return h("span", { class: `pill ${used > 90 ? "bad" : used > 70 ? "warn" : "ok"}` }, fmt.pct(used));
      },
    },
    { label: "Status", value: (r) => (r.client.active ? "active" : "deactivated") },
  ], rows));
}

function renderHeadroom() {
  const box = $("#d-headroom");
  if (!box) return;
  const line = (name, l, unit) => (l
    ? h("div", { class: "sub" }, `${name}: ${fmt.int(l.remaining)} of ${fmt.int(l.limit)} ${unit} left, resets in ${l.reset}s`)
    : null);
  const r = limits.requests;
  const share = r ? (100 * r.remaining) / Math.max(1, r.limit) : null;
  replace(
    box,
    h("div", { class: "label" }, "Rate-limit headroom"),
    h("div", { class: "value" }, share === null ? "–" : fmt.pct(share)),
    line("requests", r, "/min"),
    line("tokens", limits.tokens, "/day"),
    r ? null : h("div", { class: "sub" }, `limit ${fmt.int(state.me.rpm_limit)}/min; shown after a service call`),
  );
}
