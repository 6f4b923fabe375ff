// Talking to this node: JSON reads with typed errors, and live streams that close on navigation.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "http_error";
  }
}

export async function get(path) {
  const r = await fetch(path, { headers: { accept: "application/json" } });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
}

export async function getText(path) {
  const r = await fetch(path);
  const text = await r.text();
  if (!r.ok) {
    let body = null;
    try { body = JSON.parse(text); } catch (e) { body = null; }
    throw new ApiError(r.status, body);
  }
  return text;
}

// Streams opened by the current page; the router closes them when the page changes.
const pageStreams = new Set();

export function stream(path, handlers, { page = true } = {}) {
  const es = new EventSource(path);
  for (const [name, fn] of Object.entries(handlers)) {
    if (name === "open") es.onopen = fn;
    else if (name === "error") es.onerror = fn;
    else es.addEventListener(name, (ev) => fn(JSON.parse(ev.data), ev));
  }
  if (page) pageStreams.add(es);
  return es;
}

export function closePageStreams() {
  for (const es of pageStreams) es.close();
  pageStreams.clear();
}

// Listeners of the node's block stream (one EventSource for the whole explorer).
const blockListeners = new Set();
const pageBlockListeners = new Set();
export function onBlock(fn, { page = true } = {}) { (page ? pageBlockListeners : blockListeners).add(fn); }
export function clearPageBlockListeners() { pageBlockListeners.clear(); }
export function emitBlock(message) {
  for (const fn of [...blockListeners, ...pageBlockListeners]) fn(message);
}
