// The chain's pages: dashboard, blocks, transactions, accounts, organisations, governance,
// alerts and search results. Each page is async (view, ...params) and builds with dom.js only.
import { get, getText, onBlock, stream } from "./api.js";
import { barChart, chartBox, lineChart } from "./charts.js";
import { healthOfAccount, tracedOfAccount } from "./work_pages.js";
import {
  addr, badge, blockLink, code, download, h, isHash, kv, link, num, section, short, table, tableRow,
  time, txLink, value,
} from "./dom.js";

const CHART_BLOCKS = 100;
const LIVE_ROWS = 15;

// --- dashboard ---------------------------------------------------------------------------------

export async function dashboard(view) {
  const [status, { blocks }] = await Promise.all([get("/v1/status"), get(`/v1/blocks?limit=${CHART_BLOCKS}`)]);
  const series = blocks.slice().reverse();
  const cards = h("div", { class: "cards", id: "cards" });
  const charts = {
    height: chartBox(), txs: chartBox(), blockTime: chartBox(), throughput: chartBox(),
  };
  const latest = h("tbody", { id: "latest-blocks" });
  const events = h("ul", { class: "feed", id: "live-events" }, h("li", { class: "muted" }, "waiting for events…"));
  view.append(
    cards,
    h("div", { class: "charts" },
      figure("Height", charts.height), figure("Transactions per block", charts.txs),
      figure("Block time (s)", charts.blockTime), figure("Throughput (tx/s, last 10 blocks)", charts.throughput)),
    h("div", { class: "two" },
      section("Latest blocks",
        h("table", { class: "grid" },
          h("thead", {}, h("tr", {}, ["height", "id", "txs", "proposer", "round", "time"].map((t) => h("th", {}, t)))),
          latest)),
      section("Live events", events)),
  );
  const draw = () => {
    const pts = series.map((b) => ({ x: b.timestamp_ms, y: b.height }));
    lineChart(charts.height, "height", pts, undefined, false);
    barChart(charts.txs, "txs", series.map((b) => ({ x: b.timestamp_ms, y: b.tx_count })));
    const gaps = series.slice(1).map((b, i) => ({ x: b.timestamp_ms, y: (b.timestamp_ms - series[i].timestamp_ms) / 1000 }));
    lineChart(charts.blockTime, "block time", gaps, (v) => v.toFixed(2));
    const rates = series.slice(10).map((b, i) => {
      const first = series[i];
      const txs = series.slice(i + 1, i + 11).reduce((n, x) => n + x.tx_count, 0);
      return { x: b.timestamp_ms, y: txs / Math.max(0.001, (b.timestamp_ms - first.timestamp_ms) / 1000) };
    });
    lineChart(charts.throughput, "tx/s", rates, (v) => v.toFixed(1));
  };
  for (const b of blocks.slice(0, LIVE_ROWS)) latest.append(blockRow(b));
  draw();
  await fillCards(cards, status);
  let refreshing = false, again = false;
  onBlock(async ({ block, events: evs }) => {
    if (!series.length || block.height > series[series.length - 1].height) {
      series.push(block);
      if (series.length > CHART_BLOCKS) series.shift();
      draw();
      latest.prepend(blockRow(block, true));
      while (latest.rows.length > LIVE_ROWS) latest.deleteRow(-1);
    }
    if (evs.length && events.firstChild && events.firstChild.classList.contains("muted")) events.firstChild.remove();
    for (const ev of evs) {
      events.prepend(h("li", {}, blockLink(block.height), " ", h("b", {}, `${ev.contract}.${ev.name}`), " ",
        txLink(ev.tx_hash), " ", eventSummary(ev)));
    }
    while (events.children.length > 30) events.lastChild.remove();
    if (refreshing) { again = true; return; }  // once more after the refresh in flight
    refreshing = true;
    try {
      do { again = false; await fillCards(cards, await get("/v1/status")); } while (again);
    } finally { refreshing = false; }
  });
}

function figure(title, chart) {
  return h("figure", {}, h("figcaption", {}, title), chart);
}

function blockRow(b, fresh) {
  return h("tr", { class: fresh ? "new" : null, "data-height": b.height },
    h("td", {}, blockLink(b.height)), h("td", {}, code(short(b.id))), h("td", {}, num(b.tx_count)),
    h("td", {}, String(b.proposer)), h("td", {}, String(b.round)), h("td", {}, time(b.timestamp_ms)));
}

async function fillCards(cards, s) {
  let index = null;
  try { index = await get("/v1/index/status"); } catch (e) { index = { error: e.message }; }
  const card = (title, main, ...rest) => h("div", { class: "card" }, h("div", { class: "label" }, title),
    h("div", { class: "big" }, main), ...rest.map((r) => h("div", { class: "small" }, r)));
  const peers = s.peers || [];
  cards.replaceChildren(
    card("Height", h("span", { id: "dash-height" }, num(s.height)), ["state root ", code(short(s.state_root))]),
    card("Validators", num(s.validators), `epoch ${s.epoch ?? 0} · leader ${s.leader ?? "–"} · round ${s.consensus_round ?? s.round}`),
    card("Peers", `${peers.length} connected`, peers.length ? `validators ${peers.join(", ")}` : "none"),
    card("Mempool", num(s.mempool), `block holds up to ${num(s.max_block_txs)}`),
    card("Index", index && index.indexed_height !== undefined ? num(index.indexed_height) : "off",
      index && index.lag_blocks !== undefined ? `lag ${index.lag_blocks} blocks, ${Number(index.lag_seconds).toFixed(2)} s` : (index.error || "")),
    card("Node", s.node, `${s.chain_id} · ${s.suite} · v${s.version}`),
  );
}

function eventSummary(ev) {
  const f = ev.fields;
  if (!f || typeof f !== "object") return "";
  const parts = [];
  for (const [k, v] of Object.entries(f).slice(0, 4)) parts.push(`${k}=${typeof v === "string" ? short(v) : JSON.stringify(v)}`);
  return h("span", { class: "muted" }, parts.join(" "));
}

// --- blocks -----------------------------------------------------------------------------------

export async function blockList(view, before) {
  const path = before ? `/v1/blocks?limit=50&before=${encodeURIComponent(before)}` : "/v1/blocks?limit=50";
  const { blocks } = await get(path);
  const rows = blocks.map((b) => blockRow(b));
  view.append(section("Blocks",
    h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, ["height", "id", "txs", "proposer", "round", "time"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)),
    blocks.length && blocks[blocks.length - 1].height > 0
      ? h("p", {}, link(`blocks/before/${blocks[blocks.length - 1].height}`, "older blocks →")) : null));
}

export async function block(view, ref) {
  const b = await get(`/v1/blocks/${encodeURIComponent(ref)}`);
  const hd = b.header;
  view.append(
    h("h1", {}, `Block ${num(hd.height)}`),
    h("p", { class: "nav" }, hd.height > 0 ? link(`block/${hd.height - 1}`, "← previous") : null, " ",
      link(`block/${hd.height + 1}`, "next →")),
    section("Header", kv([
      ["id", code(b.id)], ["height", num(hd.height)], ["time", time(hd.timestamp_ms)],
      ["proposer", `validator ${hd.proposer}`], ["round", String(hd.round)], ["transactions", num(hd.tx_count)],
      ["parent", hd.height > 0 ? h("a", { href: `#/block/${hd.height - 1}`, class: "mono" }, hd.parent_id) : code(hd.parent_id)],
      ["state root", code(hd.state_root)], ["transactions root", code(hd.tx_root)],
      ["receipts root", code(hd.receipts_root)],
      ["certified by", `validators ${(b.qc.signers || []).join(", ")} (round ${b.qc.round})`],
    ])),
    section(`Transactions (${b.transactions.length})`, txTable(b.transactions)),
  );
}

function txTable(txs) {
  return table([
    ["#", (t) => String(txs.indexOf(t))],
    ["hash", (t) => txLink(t.hash)],
    ["sender", (t) => addr(t.sender)],
    ["call", (t) => `${t.contract}.${t.method}`],
    ["status", (t) => badge(t.receipt ? t.receipt.status : "?")],
    ["events", (t) => String(t.receipt ? t.receipt.events.length : 0)],
  ], txs, { id: "block-txs" });
}

// --- transactions -----------------------------------------------------------------------------

export async function tx(view, hash) {
  const t = await get(`/v1/tx/${encodeURIComponent(hash)}`);
  view.append(h("h1", {}, "Transaction"), h("p", {}, code(t.tx_hash)));
  if (t.status !== "committed") {
    view.append(kv([["status", badge(t.status)], ["reason", t.reason || "–"]]));
    return;
  }
  const d = t.decoded, r = t.receipt;
  const proofStatus = h("span", { id: "proof-status", class: "muted" });
  view.append(
    section("Summary", kv([
      ["status", badge(r.status)], r.error ? ["error", code(r.error)] : null,
      ["block", h("span", {}, blockLink(t.height), ` (index ${t.index})`)],
      ["sender", addr(d.sender)], ["call", h("b", { id: "tx-call" }, `${d.contract}.${d.method}`)],
      ["value", num(d.value)], ["nonce", num(d.nonce)], ["expiry (height)", num(d.expiry)],
      ["steps", num(r.steps)],
    ]),
    h("p", {}, h("button", { id: "download-proof", onclick: () => downloadProof(t.tx_hash, proofStatus) }, "Download proof"),
      " ", proofStatus),
    h("p", { class: "muted" }, "The proof verifies offline against the genesis file: consortia verify FILE --genesis genesis.json")),
    section("Decoded arguments", d.args_named === false ? h("div", {}, value(d.args)) : value(d.args)),
    section(`Events (${r.events.length})`, table([
      ["#", (e) => String(r.events.indexOf(e))],
      ["event", (e) => h("b", {}, `${e.contract}.${e.name}`)],
      ["fields", (e) => value(e.fields === undefined ? e.data : e.fields)],
    ], r.events, { id: "tx-events" })),
    h("details", {}, h("summary", {}, "raw transaction"), h("pre", {}, t.tx)),
  );
}

async function downloadProof(hash, statusEl) {
  statusEl.textContent = "fetching…";
  try {
    const text = await getText(`/v1/tx/${hash}/proof`);
    download(`receipt-${hash.slice(2, 14)}.json`, text);
    statusEl.textContent = "saved";
  } catch (e) {
    statusEl.textContent = `${e.code}: ${e.message}`;
  }
}

// --- accounts ---------------------------------------------------------------------------------

export async function account(view, address) {
  const [a, who] = await Promise.all([get(`/v1/accounts/${address}`), get(`/v1/explorer/accounts/${address}`)]);
  const id = who.identity;
  const proofStatus = h("span", { class: "muted" });
  view.append(
    h("h1", {}, "Account"), h("p", {}, code(a.address)),
    h("div", { class: "two" },
      section("Balance", kv([
        ["balance", h("span", { id: "account-balance" }, num(a.balance))], ["nonce", num(a.nonce)],
        ["pending", num(a.pending)], ["at height", blockLink(a.height)],
        who.meter ? ["meter", link(`energy/meter/${a.address}`, "this address is a meter")] : null,
      ]),
      h("p", {}, h("button", { onclick: async () => {
        try {
          download(`account-proof-${a.address.slice(2, 12)}.json`, await getText(`/v1/accounts/${a.address}/proof`));
          proofStatus.textContent = "saved";
        } catch (e) { proofStatus.textContent = e.message; }
      } }, "Download state proof"), " ", proofStatus)),
      section("Identity", id ? kv([
        ["organisation", link(`org/${id.org}`, id.org)], ["role", id.role], ["KYC tier", String(id.kyc_tier)],
        ["status", badge(id.status)], ["frozen", id.frozen ? badge("frozen") : "no"],
        ["enrolled", h("span", {}, blockLink(id.enrolled_height), " by ", addr(id.enrolled_by))],
        ["certificate hash", code(id.cert_hash)],
        who.admin_of.length ? ["administers", who.admin_of.map((o) => link(`org/${o}`, o))] : null,
      ], { id: "identity" }) : h("p", { id: "identity" }, who.admin_of.length
        ? ["organisation admin of ", who.admin_of.map((o) => link(`org/${o}`, o))] : "no enrolled identity")),
    ),
  );
  if (id) {
    const w = await get(`/v1/wallets/${a.address}`);
    const lim = w.limits || {};
    const cap = (v) => (v === null || v === undefined ? "no limit" : num(v));
    view.append(section(id.role === "wallet" ? "Wallet" : "Limits of its KYC tier", kv([
      id.role === "wallet" ? ["operator bank", link(`org/${w.org}`, w.org)] : null,
      ["tier", String(w.tier)], ["per payment", cap(lim.per_payment)], ["per day", cap(lim.daily)],
      ["balance cap", cap(lim.balance)], ["paid today", num(w.spent_today)],
      ["left today", cap(w.remaining_today)],
    ], { id: "wallet" })));
  }
  for (const extra of await Promise.all([healthOfAccount(a.address), tracedOfAccount(a.address)])) {
    if (extra) view.append(extra);
  }
  const body = h("tbody", { id: "history" });
  const more = h("button", {}, "older →");
  const note = h("p", { class: "muted" });
  const columns = [
    ["block", (e) => blockLink(e.height)], ["role", (e) => e.role],
    ["what", (e) => e.kind ? e.kind : `${e.contract}.${e.method}`],
    ["counterparty", (e) => e.counterparty ? addr(e.counterparty) : "–"],
    ["amount", (e) => e.amount === null ? "–" : h("span", { class: e.role === "out" ? "bad" : "ok" },
      (e.role === "out" ? "−" : "+") + num(e.amount))],
    ["status", (e) => badge(e.status)], ["transaction", (e) => txLink(e.tx_hash)],
  ];
  view.append(section("History",
    h("table", { class: "grid" }, h("thead", {}, h("tr", {}, columns.map(([t]) => h("th", {}, t)))), body),
    h("p", {}, more), note));
  let cursor = null;
  const load = async () => {
    const q = `/v1/history/${a.address}?limit=25` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "");
    try {
      const page = await get(q);
      for (const e of page.items) body.append(tableRow(columns, e));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      note.textContent = `indexed to height ${page.indexed_height}` + (body.rows.length ? "" : " · no history");
    } catch (e) {
      more.hidden = true;
      note.textContent = `history unavailable: ${e.message}`;
    }
  };
  more.addEventListener("click", load);
  await load();
}

// --- organisations ----------------------------------------------------------------------------

export async function orgList(view) {
  const { orgs, permissioned } = await get("/v1/orgs");
  if (!permissioned) { view.append(section("Organisations", h("p", {}, "an open chain: no organisations"))); return; }
  view.append(section("Organisations", table([
    ["name", (o) => link(`org/${o.name}`, o.name)], ["role", (o) => o.role], ["status", (o) => badge(o.status)],
    ["admins", (o) => o.admins.map((a) => h("div", {}, addr(a)))], ["CA", (o) => (o.has_ca ? "X.509" : "keys only")],
    ["added", (o) => blockLink(o.added_height)],
  ], orgs, { id: "orgs" })));
}

export async function org(view, name) {
  const { orgs } = await get("/v1/orgs");
  const o = orgs.find((x) => x.name === name);
  if (!o) { view.append(h("p", { class: "error" }, `no organisation named ${name}`)); return; }
  view.append(h("h1", {}, `Organisation ${o.name}`), section("Details", kv([
    ["role", o.role], ["status", badge(o.status)], ["admins", o.admins.map((a) => h("div", {}, addr(a)))],
    ["added", blockLink(o.added_height)], o.removed_height ? ["removed", blockLink(o.removed_height)] : null,
  ])), o.has_ca ? section("Certificate authority", h("pre", {}, o.ca_pem)) : null);
}

// --- governance -------------------------------------------------------------------------------

function payloadText(p) {
  if (!p || typeof p !== "object") return "";
  if (p.name !== undefined && p.value !== undefined) return `${p.name} = ${p.value}`;
  if (p.name !== undefined) return String(p.name);
  return Object.keys(p).slice(0, 3).join(", ");
}

export async function proposalList(view) {
  const { proposals, height } = await get("/v1/gov/proposals?limit=1000");
  view.append(section(`Governance proposals (at height ${num(height)})`, table([
    ["id", (p) => link(`gov/${p.id}`, `#${p.id}`)], ["kind", (p) => p.kind], ["what", (p) => payloadText(p.payload)],
    ["proposer", (p) => p.proposer_org], ["votes", (p) => `${p.approvals} yes / ${p.rejections} no of ${p.required} needed`],
    ["status", (p) => badge(p.status)], ["deadline", (p) => blockLink(p.deadline_height)],
  ], proposals.slice().reverse(), { id: "proposals" })));
}

export async function proposal(view, id) {
  const p = await get(`/v1/gov/proposals/${encodeURIComponent(id)}`);
  view.append(h("h1", {}, `Proposal ${p.id}: ${p.kind}`),
    section("Proposal", kv([
      ["status", badge(p.status)], ["payload", value(p.payload)], ["proposer", h("span", {}, addr(p.proposer), ` (${p.proposer_org})`)],
      ["created", blockLink(p.created_height)], ["deadline", blockLink(p.deadline_height)],
      ["electorate", `${p.electorate} organisations, ${p.required} approvals needed`],
      ["tally", `${p.approvals} approve, ${p.rejections} reject`], p.outcome ? ["outcome", p.outcome] : null,
      p.closed_height ? ["closed", blockLink(p.closed_height)] : null,
    ])),
    section("Votes", table([
      ["organisation", (v) => link(`org/${v.org}`, v.org)], ["voter", (v) => addr(v.voter)],
      ["vote", (v) => badge(v.approve ? "approved" : "rejected")], ["block", (v) => blockLink(v.height)],
    ], p.votes, { id: "votes" })));
}

// --- regulator alerts (live) ------------------------------------------------------------------

export async function alerts(view) {
  let since = 0, all = [];
  for (let page = 0; page < 20; page++) {
    const got = await get(`/v1/reg/alerts?since=${since}&limit=1000`);
    all = all.concat(got.alerts).slice(-200);
    since = got.last_id;
    if (got.alerts.length < 1000) break;
  }
  const columns = [
    ["id", (a) => String(a.id)], ["rule", (a) => h("b", {}, a.rule)], ["account", (a) => addr(a.address)],
    ["amount", (a) => num(a.amount)], ["block", (a) => blockLink(a.height)], ["time", (a) => time(a.timestamp_ms)],
    ["transaction", (a) => txLink(a.tx_hash)], ["detail", (a) => a.detail],
  ];
  const body = h("tbody", { id: "alerts" }, all.slice().reverse().map((a) => tableRow(columns, a)));
  const live = h("span", { id: "alerts-live", class: "badge" }, "connecting");
  view.append(section("Regulator alerts", h("p", {}, "New alerts appear here as their blocks commit. ", live),
    h("table", { class: "grid" }, h("thead", {}, h("tr", {}, columns.map(([t]) => h("th", {}, t)))), body)));
  stream(`/v1/reg/alerts/stream?since=${since}`, {
    open: () => { live.textContent = "live"; live.className = "badge ok"; },
    error: () => { live.textContent = "reconnecting"; live.className = "badge bad"; },
    alert: (a) => {
      const row = tableRow(columns, a);
      row.className = "new";
      body.prepend(row);
    },
  });
}

// --- search -----------------------------------------------------------------------------------

export function matchRoute(m) {
  switch (m.kind) {
    case "block": return `block/${m.id}`;
    case "tx": return `tx/${m.id}`;
    case "account": return `account/${m.id}`;
    case "meter": return `energy/meter/${m.id}`;
    case "proposal": return `gov/${m.id}`;
    case "bill": return `bills/${m.id}`;
    case "payable": return `scf/payable/${m.id}`;
    case "part": return `scf/payable/${m.payable}/part/${m.id}`;
    case "certificate": return `energy/cert/${m.id}`;
    case "trade": return `energy/trade/${m.id}`;
    case "notary_root": return `notary/root/${m.id}`;
    case "invoice": return `scf/invoice/${m.id}`;
    case "org": return `org/${m.id}`;
    case "document": return `notary/document/${m.id}`;
    case "record": return `health/record/${m.id}`;
    case "item": return `trace/item/${encodeURIComponent(m.id)}`;
    default: return "";
  }
}

export async function searchResults(view, q, go) {
  let found;
  try {
    found = await get(`/v1/search?q=${encodeURIComponent(q)}`);
  } catch (e) {
    // searching the whole chain is for staff; anyone may still open an address or a transaction
    const hex = /^(?:0x)?([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.exec(q);
    if (e.status === 403 && hex) {
      go(`${hex[1].length === 40 ? "account" : "tx"}/0x${hex[1].toLowerCase()}`, true);
      return;
    }
    view.append(section("Search", h("p", { class: "error", id: "search-error" }, e.message)));
    return;
  }
  let matches = found.matches;
  if (!matches.length && found.form === "hash") {
    matches = [{ kind: "document", id: "0x" + q.replace(/^0x/i, "").toLowerCase(), label: "a notarised document (if this node knows its stamp)" }];
  }
  if (matches.length === 1 && matches[0].kind !== "document") { go(matchRoute(matches[0]), true); return; }
  view.append(section(`Search: ${q}`, matches.length
    ? h("ul", { id: "search-results" }, matches.map((m) => h("li", {}, link(matchRoute(m), m.label))))
    : h("p", { id: "search-results" }, `nothing on this chain matches ${q}`)));
}

export { isHash };
