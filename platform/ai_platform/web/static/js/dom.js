// DOM helpers: elements are built with textContent, never from HTML strings,
// so text from answers and documents cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function $(selector, root = document) { return root.querySelector(selector); }
export function $$(selector, root = document) { return [...root.querySelectorAll(selector)]; }

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const fmt = {
  usd(v) {
    if (v === null || v === undefined) return "–";
    const n = Number(v);
    if (n === 0) return "$0";
    if (Math.abs(n) < 0.01) return "$" + n.toPrecision(3);
    return "$" + n.toFixed(4).replace(/0{1,2}$/, "");
  },
  int(v) { return v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"); },
  ms(v) { return v === null || v === undefined ? "–" : `${Number(v).toFixed(v < 10 ? 1 : 0)} ms`; },
  pct(v) { return `${Math.round(v)}%`; },
  when(iso) { return iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) : "–"; },
};

// The line under every answer: request id, latency, tokens, cost.
export function meta({ requestId, latencyMs, tokens, cost, model, extra }) {
  const item = (field, label, value) =>
    h("span", { dataset: { field } }, `${label} `, h("b", {}, value));
  return h(
    "div",
    { class: "meta" },
    item("request-id", "request", requestId ?? "–"),
    item("latency", "latency", fmt.ms(latencyMs)),
    item("tokens", "tokens", fmt.int(tokens)),
    item("cost", "cost", fmt.usd(cost)),
    model ? item("model", "model", model) : null,
    extra ?? null,
  );
}

// Meta from an envelope's metadata and the measured round trip.
export function envelopeMeta(metadata, latencyMs) {
  return meta({
    requestId: metadata.request_id,
    latencyMs: metadata.processing_time_ms ?? latencyMs,
    tokens: metadata.tokens_used,
    cost: metadata.estimated_cost_usd,
    model: metadata.model_version,
  });
}

export function errorBox(err) {
  const code = err.code ? `${err.status ?? ""} ${err.code}: ` : "";
  return h(
    "div",
    { class: "error", role: "alert" },
    code + (err.message ?? String(err)),
    err.requestId ? h("div", { class: "hint" }, `request ${err.requestId}`) : null,
  );
}

export function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3500);
}

export function table(columns, rows, { empty = "Nothing yet.", rowAttrs } = {}) {
  if (!rows.length) return h("p", { class: "placeholder" }, empty);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : null }, c.label)))),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          rowAttrs ? rowAttrs(row) : {},
          columns.map((c) => h("td", { class: c.num ? "num" : null }, c.value(row))),
        ),
      ),
    ),
  );
}

export function busy(form, on) {
  for (const b of form.querySelectorAll("button")) b.disabled = on;
}
