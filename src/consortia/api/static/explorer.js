// The explorer's shell: hash routes (#/block/12, #/tx/0x…, ...), the search box, the live block
// stream (one EventSource for every page) and error display.
import { clearPageBlockListeners, closePageStreams, emitBlock, get, onBlock, stream } from "./api.js";
import * as app from "./app_pages.js";
import * as chain from "./chain_pages.js";
import { clear, h } from "./dom.js";

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
      if (mine === generation) page.append(h("p", { class: "error", id: "page-error" }, `${e.code || "error"}: ${e.message}`));
    }
    if (mine === generation) delete page.dataset.loading;
    return;
  }
  page.append(h("p", { class: "error", id: "page-error" }, `no page ${path}`));
  delete page.dataset.loading;
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

function live() {
  const badge = document.getElementById("live");
  onBlock(({ block }) => { document.getElementById("head").textContent = `height ${block.height}`; }, { page: false });
  stream("/v1/events", {
    open: () => { badge.textContent = "live"; badge.className = "badge ok"; },
    error: () => { badge.textContent = "reconnecting"; badge.className = "badge bad"; },
    block: (message) => emitBlock(message),
  }, { page: false });
}

document.getElementById("search").addEventListener("submit", search);
window.addEventListener("hashchange", render);
header().catch((e) => { document.getElementById("chain").textContent = e.message; });
live();
render();
