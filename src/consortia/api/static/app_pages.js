// A page per built-in application: a bill's timeline, a payable's tree down the supply chain, a
// meter's certificates, a notarised file checked by dropping it on the page.
import { ApiError, get } from "./api.js";
import {
  addr, badge, blockLink, code, download, h, kv, link, num, section, table, time, txLink, value,
} from "./dom.js";
import { sha256Hex } from "./sha256.js";

// --- digital currency -------------------------------------------------------------------------

export async function currency(view) {
  const supply = await get("/v1/cbdc/supply");
  const orgs = Object.keys(supply.by_org);
  const reserves = await Promise.all(orgs.map((o) => get(`/v1/reserves/${encodeURIComponent(o)}`)));
  view.append(section(`Digital currency (at height ${num(supply.height)})`, kv([
    ["issued", num(supply.issued)], ["redeemed", num(supply.redeemed)],
    ["in circulation", h("span", { id: "in-circulation" }, num(supply.in_circulation))],
  ])), section("Issued through each organisation", table([
    ["organisation", (r) => link(`org/${r.org}`, r.org)], ["issued", (r) => num(r.supply.issued)],
    ["redeemed", (r) => num(r.supply.redeemed)], ["in circulation", (r) => num(r.supply.in_circulation)],
    ["reserve account", (r) => addr(r.address)], ["reserve balance", (r) => num(r.balance)],
    ["frozen", (r) => (r.frozen ? badge("frozen") : "no")],
  ], reserves, { id: "reserves" })));
}

export async function appIndex(view) {
  const card = (route, title, text) => h("a", { class: "card app", href: `#/${route}` },
    h("div", { class: "big" }, title), h("div", { class: "small" }, text));
  view.append(section("Applications", h("div", { class: "cards" },
    card("currency", "Digital currency", "issuance, redemption and reserves of each bank"),
    card("bills", "Cheques and bills", "instruments, their timelines and who is liable"),
    card("scf", "Supply-chain finance", "payables split down the supply chain, financing, invoices"),
    card("energy", "Energy", "meters, readings and green certificates"),
    card("notary", "Notarisation", "drop a file to see when it was stamped"),
    card("health", "Health records", "who may read a patient's sealed record, and who did"),
    card("trace", "Traceability", "an item's provenance, custody, inspections and recalls"))));
}

// --- cheques and bills ------------------------------------------------------------------------

export async function billList(view) {
  const { bills } = await get("/v1/bills?limit=100");
  view.append(section("Cheques and bills", table([
    ["id", (b) => link(`bills/${b.id}`, `#${b.id}`)], ["kind", (b) => `${b.kind} (${b.acceptance})`],
    ["amount", (b) => num(b.amount)], ["drawer", (b) => addr(b.drawer)], ["holder", (b) => addr(b.holder)],
    ["status", (b) => badge(b.status)], ["maturity", (b) => time(b.maturity)],
  ], bills, { id: "bills" })));
}

export async function bill(view, id) {
  const [{ bill: b }, { history }, { liable }] = await Promise.all([
    get(`/v1/bills/${encodeURIComponent(id)}`), get(`/v1/bills/${encodeURIComponent(id)}/history`),
    get(`/v1/bills/${encodeURIComponent(id)}/liable`)]);
  view.append(h("h1", {}, `${b.kind === "cheque" ? "Cheque" : "Bill"} ${b.id}`),
    h("div", { class: "two" },
      section("Instrument", kv([
        ["status", badge(b.status)], ["amount", num(b.amount)], ["acceptance", b.acceptance],
        ["drawer", addr(b.drawer)], ["drawee", addr(b.drawee)], ["payee", addr(b.payee)], ["holder", addr(b.holder)],
        ["issued", h("span", {}, time(b.issued), " at ", blockLink(b.issued_height))], ["maturity", time(b.maturity)],
        b.parent ? ["split from", link(`bills/${b.parent}`, `#${b.parent}`)] : null,
        b.parts.length ? ["parts", b.parts.map((p) => link(`bills/${p}`, `#${p} `))] : null,
        ["endorsement chain", b.chain.length ? b.chain.map((a) => h("div", {}, addr(a))) : "–"],
      ])),
      section("Liable on recourse", liable.length ? h("ol", {}, liable.map((a) => h("li", {}, addr(a)))) : h("p", {}, "nobody yet"))),
    section("Timeline", h("ol", { class: "timeline", id: "bill-timeline" }, history.map((s) => h("li", {},
      h("div", { class: "when" }, time(s.time), " · ", blockLink(s.height)),
      h("div", {}, badge(s.action), " by ", addr(s.by), s.party && s.party !== "0x" ? [" → ", addr(s.party)] : null,
        " · ", num(s.amount), s.note ? ` · ${s.note}` : "", s.id !== b.id ? ` (on #${s.id})` : ""),
      h("div", { class: "small" }, "holder ", addr(s.holder), " · status ", s.status, " · ", txLink(s.tx)))))));
}

// --- supply-chain finance ---------------------------------------------------------------------

export async function payableList(view) {
  const { payables } = await get("/v1/scf/payables?limit=100");
  view.append(section("Payables", table([
    ["id", (p) => link(`scf/payable/${p.id}`, `#${p.id}`)], ["core enterprise", (p) => addr(p.core)],
    ["supplier", (p) => addr(p.supplier)], ["bank", (p) => addr(p.bank)], ["amount", (p) => num(p.amount)],
    ["parts", (p) => String(p.parts)], ["status", (p) => badge(p.status)], ["maturity", (p) => time(p.maturity)],
  ], payables, { id: "payables" })));
}

export async function payable(view, id, partId) {
  const { payable: p, parts } = await get(`/v1/scf/payables/${encodeURIComponent(id)}`);
  const children = new Map();
  for (const part of parts) {
    const list = children.get(part.parent) || [];
    list.push(part);
    children.set(part.parent, list);
  }
  const node = (part) => h("li", { id: `part-${part.id}`, class: String(part.id) === String(partId) ? "picked" : null },
    h("div", { class: "part" }, h("b", {}, `part ${part.id}`), " · ", addr(part.holder), " holds ", num(part.amount), " · ",
      badge(part.status), part.financing && part.financing.bank ? [" · financed by ", addr(part.financing.bank)] : null,
      " · ", blockLink(part.height), " ", txLink(part.tx)),
    (children.get(part.id) || []).length ? h("ul", {}, children.get(part.id).map(node)) : null);
  view.append(h("h1", {}, `Payable ${p.id}`),
    section("Payable", kv([
      ["status", badge(p.status)], ["amount", num(p.amount)], ["core enterprise", addr(p.core)], ["bank (credit line)", addr(p.bank)],
      ["supplier", addr(p.supplier)], ["confirmed", h("span", {}, time(p.confirmed), " at ", blockLink(p.height))],
      ["maturity", time(p.maturity)], ["invoices", p.invoices.map((i) => h("div", {}, link(`scf/invoice/${i}`, i, "mono")))],
    ])),
    section("Down the supply chain", h("ul", { class: "tree", id: "payable-tree" }, (children.get(0) || []).map(node))));
}

export async function invoice(view, digest) {
  const { invoice: inv } = await get(`/v1/scf/invoices/${encodeURIComponent(digest)}`);
  view.append(h("h1", {}, "Invoice"), h("p", {}, code(digest)), section("As registered", value(inv)));
}

// --- energy -----------------------------------------------------------------------------------

export async function energyHome(view) {
  const { totals } = await get("/v1/energy");
  view.append(section("Energy", kv([
    ["meters", num(totals.meters)], ["production (Wh)", num(totals.produced_wh)],
    ["certificates issued", num(totals.certificates)], ["retired", num(totals.retired)], ["trades", num(totals.trades)],
  ]), h("p", { class: "muted" }, "Find a meter, a certificate or a trade with the search box (an address, cert 1, trade 1).")));
}

const MAX_CERTIFICATES = 50;

export async function meter(view, address) {
  const { meter: m } = await get(`/v1/energy/meters/${encodeURIComponent(address)}`);
  view.append(h("h1", {}, "Meter"), h("p", {}, code(m.meter)),
    section("Meter", kv([
      ["owner", addr(m.owner)], ["grid operator", h("span", {}, link(`org/${m.grid}`, m.grid), " · ", addr(m.operator))],
      ["active", m.active ? badge("active") : badge("inactive")], ["interval", `${m.interval_ms / 1000} s`],
      ["maximum", `${num(m.max_w)} W`], ["readings", num(m.readings)], ["produced", `${num(m.produced_wh)} Wh`],
      ["consumed", `${num(m.consumed_wh)} Wh`], ["carried", `${num(m.carry_wh)} Wh`], ["certificates", num(m.certificates)],
      ["enrolled", blockLink(m.enrolled_height)],
    ])));
  const box = h("div", { id: "meter-certificates" }, "loading…");
  view.append(section("Certificates", box));
  let serials = [];
  try {
    const { items } = await get(`/v1/index/events?contract=energy&name=CertificatesIssued&party=${m.meter}&limit=100`);
    for (const ev of items) for (let s = ev.fields.first; s <= ev.fields.last; s++) serials.push(s);
  } catch (e) {
    box.replaceChildren(`the certificates need this node's SQL index: ${e.message}`);
    return;
  }
  serials = serials.sort((a, b) => a - b).slice(0, MAX_CERTIFICATES);
  const certs = await Promise.all(serials.map((s) => get(`/v1/energy/certificates/${s}`).then((r) => r.certificate)));
  box.replaceChildren(table([
    ["serial", (c) => link(`energy/cert/${c.serial}`, `#${c.serial}`)], ["period", (c) => num(c.period)],
    ["holder", (c) => addr(c.holder)], ["status", (c) => badge(c.status)], ["issued", (c) => blockLink(c.issued_height)],
    ["beneficiary", (c) => c.beneficiary || "–"],
  ], certs));
}

export async function certificate(view, serial) {
  const { certificate: c } = await get(`/v1/energy/certificates/${encodeURIComponent(serial)}`);
  view.append(h("h1", {}, `Certificate ${c.serial}`), section("Green certificate (1 MWh)", kv([
    ["status", badge(c.status)], ["meter", link(`energy/meter/${c.meter}`, c.meter, "mono")], ["period", num(c.period)],
    ["grid", c.grid], ["holder", addr(c.holder)], ["issued", h("span", {}, time(c.issued_ms), " at ", blockLink(c.issued_height))],
    ["transfers", num(c.transfers)], c.retired_height ? ["retired", h("span", {}, blockLink(c.retired_height), " by ", addr(c.retired_by), ` for ${c.beneficiary}`)] : null,
  ], { id: "certificate" })));
}

export async function trade(view, id) {
  const { trade: t } = await get(`/v1/energy/trades/${encodeURIComponent(id)}`);
  view.append(h("h1", {}, `Trade ${id}`), section("Trade", value(t)));
}

// --- notarisation -----------------------------------------------------------------------------

export async function notary(view) {
  const result = h("div", { id: "notary-result" });
  const input = h("input", { type: "file", id: "notary-file" });
  const zone = h("div", { class: "dropzone", id: "dropzone" }, "Drop a file here, or choose one: ", input,
    h("p", { class: "small" }, "The file never leaves this browser: only its SHA-256 is looked up."));
  const check = async (file) => {
    if (!file) return;
    result.replaceChildren(`hashing ${file.name}…`);
    const { digest, by } = await sha256Hex(await file.arrayBuffer());
    result.replaceChildren(kv([["file", file.name], ["size", `${num(file.size)} bytes`],
      ["SHA-256", h("code", { id: "notary-digest" }, digest)], ["hashed with", by]]));
    result.append(await stampOf(digest, file.name));
  };
  input.addEventListener("change", () => check(input.files[0]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    check(e.dataTransfer.files[0]);
  });
  view.append(section("Check a notarised file", zone, result));
}

async function stampOf(digest, name) {
  try {
    const s = await get(`/v1/notary/documents/${digest}`);
    return stampView(s, name);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    return h("p", { class: "error", id: "notary-verdict" }, "not stamped — this node knows no stamp of this file. ", e.message);
  }
}

function stampView(s, name) {
  const saved = h("span", { class: "muted" });
  return h("div", {},
    h("p", { class: "ok", id: "notary-verdict" }, `stamped at height ${num(s.height)}`),
    kv([["stamped", h("span", {}, time(s.timestamp_ms), " at ", blockLink(s.height))], ["stamper", addr(s.stamper)],
      ["transaction", txLink(s.tx_hash)], ["root on chain", link(`notary/root/${s.root}`, s.root, "mono")],
      ["documents in the batch", num(s.batch_documents)], ["stamps seen", num(s.stamps_seen)]]),
    s.receipt ? h("p", {}, h("button", { id: "download-notary-receipt", onclick: () => {
      // the receipt's one file form (Python's json.dumps indent=1, fields in order, then a newline)
      download(`${name || "document"}.notary.json`, JSON.stringify(s.receipt, null, 1) + "\n");
      saved.textContent = "saved: consortia notary verify FILE RECEIPT --genesis genesis.json checks it offline";
    } }, "Download receipt"), " ", saved) : null);
}

export async function notaryDocument(view, digest) {
  view.append(h("h1", {}, "Notarised document"), h("p", {}, code(digest)), await stampOf(digest, null));
}

export async function notaryRoot(view, root) {
  const { anchored } = await get(`/v1/notary/roots/${encodeURIComponent(root)}`);
  view.append(h("h1", {}, "Notarised root"), h("p", {}, code(root)), section("First anchoring", kv([
    ["stamper", addr(anchored.stamper)], ["anchored", h("span", {}, time(anchored.timestamp_ms), " at ", blockLink(anchored.height))],
    ["transaction", txLink(anchored.tx_hash)], ["documents", num(anchored.documents)], ["times stamped", num(anchored.stamps)],
  ])));
}
