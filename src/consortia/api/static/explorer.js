// The explorer's shell: hash routes (#/block/12, #/tx/0x…, ...), the search box, the live block
// stream (one EventSource for every page), who is signed in, and error display: a 401 shows the
// sign-in panel, a 403 says what is not visible to whom.
import {
  ApiError, clearPageBlockListeners, closePageStreams, emitBlock, get, onBlock, onRenewed, onSignedOut,
  scheduleRefresh, signOut, stream, takeSecretFromAddress,
} from "./api.js";
import * as app from "./app_pages.js";
import * as chain from "./chain_pages.js";
import { clear, h } from "./dom.js";
import { setWho, signInPanel, whoBadge, whoText } from "./signin.js";
import * as work from "./work_pages.js";

const routes = [
  [/^$/, chain.dashboard],
  [/^blocks$/, chain.blockList],
  [/^blocks\/before\/(\d+)$/, chain.blockList],
  [/^block\/(\d+|0x[0-9a-fA-F]{64}|latest)$/, chain.block],
  [/^tx\/(0x[0-9a-fA-F]{64})$/, chain.tx],
  [/^account\/(0x[0-9a-fA-F]{40})$/, chain.account],
  [/^orgs$/, chain.orgList],
  [/^org\/([A-Za-z0-9._-]{1,64})$/, chain.org],
  [/^gov$/, chain.proposalList],
  [/^gov\/(\d+)$/, chain.proposal],
  [/^alerts$/, chain.alerts],
  [/^apps$/, app.appIndex],
  [/^currency$/, app.currency],
  [/^bills$/, app.billList],
  [/^bills\/(\d+)$/, app.bill],
  [/^scf$/, app.payableList],
  [/^scf\/payable\/(\d+)(?:\/part\/(\d+))?$/, app.payable],
  [/^scf\/invoice\/(0x[0-9a-fA-F]{64})$/, app.invoice],
  [/^energy$/, app.energyHome],
  [/^energy\/meter\/(0x[0-9a-fA-F]{40})$/, app.meter],
  [/^energy\/cert\/(\d+)$/, app.certificate],
  [/^energy\/trade\/(\d+)$/, app.trade],
  [/^notary$/, app.notary],
  [/^notary\/root\/(0x[0-9a-fA-F]{64})$/, app.notaryRoot],
  [/^notary\/document\/(0x[0-9a-fA-F]{64})$/, app.notaryDocument],
  [/^health$/, work.healthHome],
  [/^health\/record\/(0x[0-9a-fA-F]{64})$/, work.healthRecord],
  [/^health\/patient\/(0x[0-9a-fA-F]{40})$/, work.patient],
  [/^trace$/, work.traceHome],
  [/^trace\/item\/(.+)$/, (view, id) => work.traceItem(view, decodeURIComponent(id))],
  [/^search\/(.+)$/, (view, q) => chain.searchResults(view, decodeURIComponent(q), go)],
];

const view = document.getElementById("view");
let generation = 0;

function go(route, replace) {
  if (replace) { history.replaceState(null, "", "#/" + route); render(); }
  else location.hash = "#/" + route;
}

async function render() {
  const mine = ++generation;
  closePageStreams();
  clearPageBlockListeners();
  const path = location.hash.replace(/^#\/?/, "");
  for (const a of document.querySelectorAll("nav a")) {
    const target = a.getAttribute("href").replace(/^#\/?/, "");
    a.classList.toggle("here", target === "" ? path === "" : path.startsWith(target));
  }
  const page = h("div", { class: "page", "data-loading": "1" });
  clear(view).append(page);
  for (const [pattern, fn] of routes) {
    const m = pattern.exec(path);
    if (!m) continue;
    try {
      await fn(page, ...m.slice(1));
    } catch (e) {
      if (mine === generation) page.append(refusal(e));
    }
    if (mine === generation) delete page.dataset.loading;
    return;
  }
  page.append(h("p", { class: "error", id: "page-error" }, `no page ${path}`));
  delete page.dataset.loading;
}

// What a failed read shows: the sign-in panel (401), what is not visible to whom (403), else the error.
export function refusal(e) {
  if (e instanceof ApiError && e.status === 401) return signInPanel(e.message, () => boot());
  if (e instanceof ApiError && e.status === 403) {
    return h("div", { class: "notice", id: "not-visible" }, h("b", {}, `not visible to ${whoText()}`),
      h("div", { class: "small" }, e.message));
  }
  return h("p", { class: "error", id: "page-error" }, `${e.code || "error"}: ${e.message}`);
}

function search(event) {
  event.preventDefault();
  const q = document.getElementById("q").value.trim();
  if (q) go("search/" + encodeURIComponent(q));
}

async function header() {
  const s = await get("/v1/status");
  document.getElementById("chain").textContent = `${s.chain_id} · ${s.suite} · ${s.validators} validators · node ${s.node}`;
  document.getElementById("head").textContent = `height ${s.height}`;
}

// The node's block stream: every block for staff, overseers and an open API; for anyone else the
// node sends only the blocks with events that name the caller.
let events = null;
function live(who) {
  const badge = document.getElementById("live");
  if (events) { events.close(); events = null; }
  const own = who.api_access === "signed" && !who.staff && !who.oversees;
  badge.title = own ? "the node streams the blocks with events that name you" : "every committed block";
  events = stream("/v1/events", {
    open: () => { badge.textContent = own ? "live: own events" : "live"; badge.className = "badge ok"; },
    error: () => { badge.textContent = "reconnecting"; badge.className = "badge bad"; },
    block: (message) => emitBlock(message),
  }, { page: false });
}

let current = null;

// Who is reading: an open API, a session (identity or operator), or nobody yet (the sign-in panel).
async function boot() {
  try {
    await takeSecretFromAddress();
  } catch (e) {
    if (e.status === 404) return boot();  // an open API has no sessions: nothing to sign in to
    setWho(null);
    whoBadge(() => { signOut(); });
    clear(view).append(h("div", { class: "page" }, signInPanel(`the sign-in link was refused: ${e.message}`, () => boot())));
    return;
  }
  let who = null;
  try {
    who = await get("/v1/auth/whoami");
  } catch (e) {
    setWho(null);
    whoBadge(() => { signOut(); });
    if (events) { events.close(); events = null; }
    document.getElementById("live").textContent = "signed out";
    clear(view).append(h("div", { class: "page" }, refusal(e)));
    return;
  }
  setWho(who);
  current = who;
  whoBadge(() => { signOut(); });
  scheduleRefresh(who.session_expires);
  live(who);
  render();
}

onBlock(({ block }) => { document.getElementById("head").textContent = `height ${block.height}`; }, { page: false });
onSignedOut(() => boot());
onRenewed(() => { if (current) live(current); });  // the stream's URL carries the old token
document.getElementById("search").addEventListener("submit", search);
window.addEventListener("hashchange", () => { if (/^#(signin|token)=/.test(location.hash)) boot(); else render(); });
header().catch((e) => { document.getElementById("chain").textContent = e.message; });
boot();
