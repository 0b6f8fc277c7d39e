// Calls to the platform's public API with the key the user entered.
// Streams use fetch + ReadableStream: EventSource cannot send the key header.

const KEY = "aip.apiKey";
const KEY_HEADER = "X-API-Key";

export const auth = {
  get key() { return sessionStorage.getItem(KEY); },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

// The latest rate-limit headers seen on any governed response.
export const limits = { requests: null, tokens: null, seenAt: null };
const limitListeners = new Set();
export function onLimits(fn) { limitListeners.add(fn); }

function noteLimits(headers) {
  const read = (suffix) => {
    const limit = headers.get(`x-ratelimit-limit${suffix}`);
    if (limit === null) return null;
    return {
      limit: Number(limit),
      remaining: Number(headers.get(`x-ratelimit-remaining${suffix}`)),
      reset: Number(headers.get(`x-ratelimit-reset${suffix}`)),
    };
  };
  const requests = read("");
  const tokens = read("-tokens");
  if (requests === null && tokens === null) return;
  if (requests !== null) limits.requests = requests;
  if (tokens !== null) limits.tokens = tokens;
  limits.seenAt = new Date();
  for (const fn of limitListeners) fn(limits);
}

export class ApiError extends Error {
  constructor(status, code, message, requestId, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }
}

function errorFrom(resp, body) {
  const requestId = resp.headers.get("x-request-id");
  const err = body && typeof body === "object" ? (body.error ?? body) : null;
  if (err && typeof err === "object") {
    const message = err.message ?? err.detail ?? JSON.stringify(err);
    return new ApiError(resp.status, err.code ?? err.type ?? "error", message, requestId, err.details);
  }
  return new ApiError(resp.status, "http_" + resp.status, String(body || resp.statusText), requestId);
}

function request(path, { method = "GET", json, form, query, bearer = false, signal } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = {};
  const key = auth.key;
  if (key) {
    if (bearer) headers.Authorization = `Bearer ${key}`;
    else headers[KEY_HEADER] = key;
  }
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  return fetch(url, { method, headers, body, signal });
}

async function parse(resp) {
  const text = await resp.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return text; }
}

// A plain call: {status, ok, body, headers, requestId, latencyMs}; never throws on HTTP errors.
export async function raw(path, options = {}) {
  const t0 = performance.now();
  const resp = await request(path, options);
  const body = await parse(resp);
  noteLimits(resp.headers);
  return {
    status: resp.status,
    ok: resp.ok,
    body,
    headers: resp.headers,
    requestId: resp.headers.get("x-request-id"),
    latencyMs: performance.now() - t0,
    error: resp.ok ? null : errorFrom(resp, body),
  };
}

// An enveloped call: {data, metadata, latencyMs, headers}; throws ApiError on errors.
export async function call(path, options = {}) {
  const result = await raw(path, options);
  if (!result.ok) throw result.error;
  const body = result.body ?? {};
  return { data: body.data, metadata: body.metadata ?? {}, latencyMs: result.latencyMs, headers: result.headers };
}

// Server-Sent Events over fetch. Resolves once the response has started:
// {response, requestId, events} where events is an async iterator of {event, data}.
export async function openStream(path, options = {}) {
  const resp = await request(path, options);
  noteLimits(resp.headers);
  if (!resp.ok) throw errorFrom(resp, await parse(resp));
  return { response: resp, requestId: resp.headers.get("x-request-id"), events: readEvents(resp.body) };
}

async function* readEvents(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
        const event = parseBlock(block);
        if (event !== null) yield event;
      }
    }
    const tail = parseBlock(buffer);
    if (tail !== null) yield tail;
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  const text = data.join("\n");
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* a plain-text event, e.g. [DONE] */ }
  return { event, data: parsed };
}
