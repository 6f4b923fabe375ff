// Talking to this node: JSON reads with typed errors, live streams that close on navigation, and
// the session that says who is reading (a chain with organisations asks every caller; decisions/0021).

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "http_error";
  }
}

// --- the session ----------------------------------------------------------------------------------
// A bearer token (cs1...) of this node, kept in sessionStorage (this tab only, gone when it closes),
// sent as Authorization on every read and as ?access_token= on event streams (EventSource sends no
// headers). It comes from the address bar once (#token=..., printed by `consortia api signin`; or
// #signin=..., the operator's one-time link, exchanged here) and is then taken out of it.

const STORE = "consortia.session";
let session = null;
try { session = JSON.parse(sessionStorage.getItem(STORE)); } catch (e) { session = null; }
let refreshTimer = null;
const signedOutListeners = new Set();
const renewedListeners = new Set();

export function currentSession() { return session; }
export function onSignedOut(fn) { signedOutListeners.add(fn); }
export function onRenewed(fn) { renewedListeners.add(fn); }

function keep(next) {
  session = next;
  if (next) sessionStorage.setItem(STORE, JSON.stringify(next));
  else sessionStorage.removeItem(STORE);
}

function authHeaders() {
  return session ? { authorization: `Bearer ${session.token}` } : {};
}

export function signOut() {
  keep(null);
  if (refreshTimer) clearTimeout(refreshTimer);
  for (const fn of signedOutListeners) fn();
}

// Exchange a bearer token (the operator's one-time sign-in token, or a session to renew) for a
// fresh session of this node.
export async function exchange(token) {
  const r = await fetch("/v1/auth/session", { method: "POST", headers: { authorization: `Bearer ${token}` } });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) throw new ApiError(r.status, body);
  keep({ token: body.token, expires: body.expires });
  scheduleRefresh(body.expires);
  return body;
}

// Renew the session a minute before it expires (a session renews itself: POST /v1/auth/session
// with the session as its bearer), so an open tab stays signed in.
export function scheduleRefresh(expires) {
  if (refreshTimer) clearTimeout(refreshTimer);
  if (!expires) return;
  const wait = Math.max(5_000, expires * 1000 - Date.now() - 60_000);
  refreshTimer = setTimeout(() => {
    if (!session) return;
    exchange(session.token).then(() => { for (const fn of renewedListeners) fn(); }, () => signOut());
  }, wait);
}

// What the address bar carries: #signin=T or #token=T (anything else: null). The secret is taken
// out of the address bar and the history entry at once.
export async function takeSecretFromAddress() {
  const m = /^#(signin|token)=([A-Za-z0-9._-]{1,512})/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, "", location.pathname + location.search + "#/");
  if (m[1] === "signin") return exchange(m[2]);
  keep({ token: m[2], expires: null });
  return null;
}

// Sign in with what a user pasted: a session token, or a whole link carrying #token= or #signin=.
export async function signInWith(text) {
  const m = /(?:#(?:signin|token)=)?([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/.exec(text.trim());
  if (!m) throw new ApiError(400, { code: "bad_session_token", message: "paste a session token (cs1...) or the link that carries it" });
  return exchange(m[1]);
}

function refused(status) {
  if (status === 401 && session) signOut();
}

// --- reads ----------------------------------------------------------------------------------------

export async function get(path) {
  const r = await fetch(path, { headers: { accept: "application/json", ...authHeaders() } });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) { refused(r.status); throw new ApiError(r.status, body); }
  return body;
}

export async function getText(path) {
  const r = await fetch(path, { headers: authHeaders() });
  const text = await r.text();
  if (!r.ok) {
    let body = null;
    try { body = JSON.parse(text); } catch (e) { body = null; }
    refused(r.status);
    throw new ApiError(r.status, body);
  }
  return text;
}

// Streams opened by the current page; the router closes them when the page changes.
const pageStreams = new Set();

export function stream(path, handlers, { page = true } = {}) {
  const url = session ? `${path}${path.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(session.token)}` : path;
  const es = new EventSource(url);
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
