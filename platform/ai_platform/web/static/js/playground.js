// One panel per service: knowledge, agent (streamed), research (job + events),
// image analysis, and the OpenAI-compatible endpoint.

import { call, openStream, raw } from "./api.js";
import { $, $$, busy, envelopeMeta, errorBox, fmt, h, meta, replace } from "./dom.js";

export function setupPlayground() {
  for (const tab of $$("#service-tabs [data-tab]")) {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  }
  setupKnowledge();
  setupAgent();
  setupResearch();
  setupImage();
  setupOpenAI();
}

export function showTab(name) {
  for (const tab of $$("#service-tabs [data-tab]")) tab.classList.toggle("active", tab.dataset.tab === name);
  for (const panel of $$("#view-playground [data-panel]")) panel.hidden = panel.dataset.panel !== name;
}

function values(form) { return Object.fromEntries(new FormData(form).entries()); }

async function guarded(form, target, work) {
  busy(form, true);
  try {
    await work();
  } catch (err) {
    replace(target, errorBox(err));
  } finally {
    busy(form, false);
  }
}

// -- knowledge ---------------------------------------------------------------------------

function setupKnowledge() {
  const out = $("#k-result");
  $("#k-search").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const v = values(form);
    guarded(form, out, async () => {
      const { data, metadata, latencyMs } = await call("/api/v1/knowledge/search", {
        method: "POST",
        json: { query: v.query, max_results: Number(v.max_results || 5) },
      });
      replace(
        out,
        h("h2", {}, `${data.length} passage${data.length === 1 ? "" : "s"}`),
        data.length
          ? h("ul", { class: "hits" }, data.map((hit) =>
              h("li", {},
                h("span", { class: "score" }, hit.score.toFixed(3)),
                h("div", { class: "title" }, hit.title),
                h("div", { class: "snippet" }, hit.content.slice(0, 400)),
                h("div", { class: "hint" }, hit.source))))
          : h("p", { class: "placeholder" }, "No passage matched. Add a document first."),
        envelopeMeta(metadata, latencyMs),
      );
    });
  });

  $("#k-answer").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const v = values(form);
    guarded(form, out, async () => {
      const { data, metadata, latencyMs } = await call("/api/v1/knowledge/answer", {
        method: "POST",
        json: { question: v.question },
      });
      replace(
        out,
        h("h2", {}, "Answer"),
        h("div", { class: "answer" }, data.answer),
        data.citations.length
          ? h("ol", { class: "citations" }, data.citations.map((c) =>
              h("li", { value: c.number }, h("b", {}, c.title), " — ", h("span", { class: "snippet" }, c.snippet))))
          : h("p", { class: "hint" }, "No citations."),
        envelopeMeta(metadata, latencyMs),
      );
    });
  });

  $("#k-ingest").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const v = values(form);
    guarded(form, out, async () => {
      const { data, metadata, latencyMs } = await call("/api/v1/knowledge/ingest", {
        method: "POST",
        json: { documents: [{ title: v.title, text: v.text, source: "playground" }] },
      });
      form.reset();
      replace(
        out,
        h("h2", {}, "Ingested"),
        h("p", {}, data.documents.map((d) => `${d.title}: ${d.chunk_count} chunk(s)`).join(", ")),
        envelopeMeta(metadata, latencyMs),
      );
    });
  });
}

// -- agent -------------------------------------------------------------------------------

function setupAgent() {
  const log = $("#a-log");
  const status = $("#a-status");
  let conversationId = null;

  $("#a-new").addEventListener("click", () => {
    conversationId = null;
    replace(log, h("p", { class: "placeholder" }, "New conversation."));
  });

  const setStreaming = (on, text = "") => {
    status.dataset.streaming = on ? "true" : "false";
    status.textContent = text;
  };

  $("#a-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const v = values(form);
    const stream = form.elements.stream.checked;
    $(".placeholder", log)?.remove();
    log.append(h("div", { class: "msg user" }, v.message));
    const answer = h("div", { class: "answer" });
    const tools = h("div", { class: "tools" });
    const bubble = h("div", { class: "msg assistant" }, tools, answer);
    log.append(bubble);
    log.scrollTop = log.scrollHeight;
    form.elements.message.value = "";
    busy(form, true);
    const body = { message: v.message, conversation_id: conversationId ?? undefined };
    const t0 = performance.now();
    try {
      if (!stream) {
        setStreaming(false, "waiting…");
        const { data, metadata, latencyMs } = await call("/api/v1/agent/chat", { method: "POST", json: body });
        conversationId = data.conversation_id;
        for (const t of data.tool_calls) tools.append(toolChip(t.name, t.arguments, t.summary, false));
        answer.textContent = data.reply;
        bubble.append(envelopeMeta(metadata, latencyMs));
        setStreaming(false, "");
        return;
      }
      setStreaming(true, "streaming…");
      const { requestId, events } = await openStream("/api/v1/agent/chat/stream", { method: "POST", json: body });
      const chips = new Map();
      for await (const { event, data } of events) {
        if (event === "token") {
          answer.append(data.text);
          log.scrollTop = log.scrollHeight;
        } else if (event === "tool_call") {
          const chip = toolChip(data.name, data.arguments, null, false);
          chips.set(data.id, chip);
          tools.append(chip);
        } else if (event === "tool_result") {
          const chip = chips.get(data.id);
          if (chip) finishChip(chip, data.summary, data.failed);
        } else if (event === "done") {
          conversationId = data.conversation_id;
          bubble.append(meta({
            requestId: data.request_id ?? requestId,
            latencyMs: performance.now() - t0,
            tokens: data.usage?.total_tokens,
            cost: data.cost_usd,
            model: data.model,
            extra: data.ttft_ms == null ? null
              : h("span", { dataset: { field: "ttft" } }, "first token ", h("b", {}, fmt.ms(data.ttft_ms))),
          }));
        } else if (event === "error") {
          if (data.conversation_id) conversationId = data.conversation_id;
          bubble.append(errorBox({ code: data.code, message: data.message, requestId: data.request_id ?? requestId }));
        }
      }
    } catch (err) {
      bubble.append(errorBox(err));
    } finally {
      setStreaming(false, "");
      busy(form, false);
    }
  });
}

function toolChip(name, args, summary, failed) {
  const chip = h("div", { class: "tool", dataset: { tool: name } }, `⚙ ${name}(${JSON.stringify(args ?? {})})`);
  if (summary !== null) finishChip(chip, summary, failed);
  return chip;
}

function finishChip(chip, summary, failed) {
  chip.classList.add(failed ? "failed" : "done");
  chip.append(h("div", {}, `→ ${summary}`));
}

// -- research ----------------------------------------------------------------------------

function setupResearch() {
  const out = $("#r-result");
  const box = $("#r-progress-box");
  const steps = $("#r-steps");
  const setProgress = (status, progress) => {
    $("#r-state").textContent = status;
    if (progress) {
      $("#r-percent").textContent = fmt.pct(progress.percent);
      $("#r-bar").style.width = `${progress.percent}%`;
    }
    box.dataset.status = status;
  };

  $("#r-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const v = values(form);
    guarded(form, out, async () => {
      const t0 = performance.now();
      replace(steps);
      box.hidden = false;
      setProgress("starting", { percent: 0 });
      replace(out, h("p", { class: "placeholder" }, "Working…"));
      const started = await call("/api/v1/research/start", {
        method: "POST",
        json: { question: v.question, max_sub_questions: Number(v.max_sub_questions || 3) },
      });
      const task = started.data;
      setProgress(task.status, { percent: 0 });
      out.dataset.taskId = task.task_id;
      const { events } = await openStream(task.events_url);
      for await (const { event, data } of events) {
        if (event === "status") {
          setProgress(data.status, data.progress);
        } else if (event === "step") {
          steps.append(h("li", {}, `${data.kind}: ${data.key}`));
          setProgress("running", {
            percent: data.steps_total ? (100 * data.steps_done) / data.steps_total : 0,
          });
        } else if (["completed", "failed", "cancelled"].includes(event)) {
          setProgress(event, data.progress);
          renderReport(out, data, started.metadata.request_id, performance.now() - t0);
        } else if (event === "timeout" || event === "error") {
          replace(out, errorBox({ code: event, message: JSON.stringify(data) }));
        }
      }
    });
  });
}

function renderReport(out, view, requestId, latencyMs) {
  const usage = meta({
    requestId,
    latencyMs,
    tokens: view.usage.total_tokens,
    cost: view.usage.cost_usd,
    model: view.model,
  });
  if (view.status !== "completed" || !view.report) {
    replace(out, errorBox({ code: view.status, message: view.error?.message ?? "the job did not complete" }), usage);
    return;
  }
  const r = view.report;
  replace(
    out,
    h("div", { class: "report", dataset: { status: view.status } },
      h("h2", {}, r.title),
      h("div", { class: "answer" }, r.summary),
      r.sections.map((s) => [h("h3", {}, s.heading), h("div", { class: "answer" }, s.body)]),
      r.sources.length
        ? [h("h3", {}, "Sources"), h("ol", { class: "sources" }, r.sources.map((s) =>
            h("li", { value: s.number }, h("b", {}, s.title), ` (${s.source})`)))]
        : null,
      view.review ? h("p", { class: "hint" }, `Review: ${view.review.verdict}` +
        (view.review.issues.length ? ` — ${view.review.issues.join("; ")}` : "")) : null),
    usage,
  );
}

// -- image -------------------------------------------------------------------------------

function setupImage() {
  const out = $("#i-result");
  const form = $("#i-form");
  const preview = $("#i-preview");
  form.elements.images.addEventListener("change", () => {
    const file = form.elements.images.files[0];
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.hidden = !file;
    if (file) preview.src = URL.createObjectURL(file);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(form, out, async () => {
      const { data, metadata, latencyMs } = await call("/api/v1/assistant/analyze", {
        method: "POST",
        form: new FormData(form),
      });
      replace(
        out,
        h("h2", {}, "Answer"),
        h("div", { class: "answer" }, data.answer),
        h("table", {}, h("tbody", {}, data.images.map((img) =>
          h("tr", {},
            h("td", {}, img.filename),
            h("td", {}, `${img.format} ${img.width}×${img.height}, ${fmt.int(img.size_bytes)} bytes`),
            h("td", {}, img.downscaled ? `sent ${img.sent_width}×${img.sent_height}` : "sent as is"))))),
        envelopeMeta(metadata, latencyMs),
      );
    });
  });
}

// -- OpenAI-compatible -------------------------------------------------------------------

let openaiReady = false;

// Hides the tab when the server has no /v1 routes (GET /v1/models is 404).
export async function probeOpenAI() {
  const tab = $("#openai-tab");
  let result;
  try {
    result = await raw("/v1/models", { bearer: true });
  } catch {
    result = { status: 0, ok: false };
  }
  openaiReady = result.ok;
  tab.disabled = result.status === 404;
  tab.title = tab.disabled ? "Not available on this server" : "";
  $("#o-unavailable").hidden = result.status !== 404;
  $("#o-form").hidden = result.status === 404;
  const select = $("#o-model");
  const models = result.ok && Array.isArray(result.body?.data) ? result.body.data.map((m) => m.id) : [];
  replace(
    select,
    h("option", { value: "" }, "platform default"),
    models.map((id) => h("option", { value: id }, id)),
  );
  return openaiReady;
}

function setupOpenAI() {
  const out = $("#o-result");
  const form = $("#o-form");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = values(form);
    const stream = form.elements.stream.checked;
    const messages = [];
    if (v.system) messages.push({ role: "system", content: v.system });
    messages.push({ role: "user", content: v.message });
    // Without a model the platform answers with its default one.
    const body = { model: v.model || undefined, messages, stream };
    if (stream) body.stream_options = { include_usage: true };
    guarded(form, out, async () => {
      const t0 = performance.now();
      const answer = h("div", { class: "answer" });
      replace(out, h("h2", {}, "Completion"), answer);
      if (!stream) {
        const result = await raw("/v1/chat/completions", { method: "POST", json: body, bearer: true });
        if (!result.ok) throw result.error;
        answer.textContent = result.body.choices?.[0]?.message?.content ?? "";
        out.append(openaiMeta(result.headers, result.body.usage, result.body.model, result.latencyMs));
        return;
      }
      const { response, events } = await openStream("/v1/chat/completions", { method: "POST", json: body, bearer: true });
      let usage = null;
      let model = null;
      for await (const { data } of events) {
        if (data === "[DONE]" || typeof data !== "object") continue;
        model = data.model ?? model;
        if (data.usage) usage = data.usage;
        const piece = data.choices?.[0]?.delta?.content;
        if (piece) answer.append(piece);
      }
      const latencyMs = performance.now() - t0;
      const line = openaiMeta(response.headers, usage, model, latencyMs);
      out.append(line);
      // A stream's cost is known only once it ends: read it from the caller's ledger row.
      const requestId = response.headers.get("x-request-id");
      const row = requestId ? await ledgerRow(requestId) : null;
      if (row) {
        line.replaceWith(meta({
          requestId,
          latencyMs,
          tokens: row.prompt_tokens + row.completion_tokens,
          cost: row.cost_usd,
          model: row.model ?? model,
        }));
      }
    });
  });
}

async function ledgerRow(requestId) {
  // The ledger writes rows in batches, shortly after each request ends.
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const result = await raw("/api/v1/usage/requests", { query: { request_id: requestId } });
    if (result.ok && result.body.data.length) return result.body.data[0];
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return null;
}

function openaiMeta(headers, usage, model, latencyMs) {
  let cost = null;
  for (const [name, value] of headers.entries()) {
    if (/cost/i.test(name) && !Number.isNaN(Number(value))) cost = Number(value);
  }
  const tokens = usage?.total_tokens ?? headers.get("x-ai-platform-tokens");
  return meta({
    requestId: headers.get("x-request-id"),
    latencyMs,
    tokens: tokens === null || tokens === undefined ? null : Number(tokens),
    cost,
    model: model ?? headers.get("x-ai-platform-model"),
  });
}
