// Pages of the applications for health records (apps/health, decisions/0020) and industrial
// traceability (apps/trace, decisions/0024). A health record's page shows metadata only — who
// stored it, who may read it, who read it when — never its contents, which are sealed.
import { ApiError, get } from "./api.js";
import { addr, badge, blockLink, code, h, kv, link, num, section, short, table, time, txLink, value } from "./dom.js";

const LOG_PAGE = 100;
const MAX_GRANTS = 50;

// --- health records -----------------------------------------------------------------------------

export async function healthHome(view) {
  let node = null;
  try { node = await get("/v1/health/node"); } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  view.append(section("Health records", h("p", {},
    "A hospital stores a patient's record encrypted on its own node; the chain holds its hash, who may read it and ",
    "every access. Find a record with the search box (its 0x id), or a patient's records from their account page."),
  node ? kv([["this node keeps records as", addr(node.custodian)], ["records stored here", num(node.records)],
    ["largest record", `${num(node.max_record_bytes)} bytes`]], { id: "health-node" })
    : h("p", { class: "muted", id: "health-node" }, "this node keeps no health records (another hospital's node does)")));
}

export async function healthRecord(view, id) {
  const rid = encodeURIComponent(id);
  const [{ record: r, stored_here: here }, log] = await Promise.all([
    get(`/v1/health/records/${rid}`), get(`/v1/health/records/${rid}/log?limit=${LOG_PAGE}`)]);
  const grantees = [...new Set(log.log.filter((e) => e.kind === "granted").map((e) => e.party))].slice(0, MAX_GRANTS);
  const grants = await Promise.all(grantees.map((g) => get(`/v1/health/records/${rid}/grants/${g}`)));
  view.append(h("h1", {}, "Health record"), h("p", {}, code(r.record)),
    h("div", { class: "two" },
      section("Record", kv([
        ["patient", h("span", {}, addr(r.patient), " · ", link(`health/patient/${r.patient}`, "their records"))],
        ["hospital", link(`org/${r.hospital}`, r.hospital)], ["stored by", addr(r.uploader)],
        ["custodian (serving node)", addr(r.custodian)],
        ["stored", h("span", {}, time(r.timestamp_ms), " at ", blockLink(r.height))],
        ["ciphertext on this node", here ? "yes" : "no"],
      ], { id: "health-record" })),
      section("Contents", h("p", { id: "health-sealed" }, badge("sealed"), " The contents are encrypted off chain under a fresh data key, ",
        "sealed to the patient and the custodian (and to each grantee). A reader fetches them from the hospital's node with a ",
        "signed request, which is logged on chain first: this page shows who may read and who did, never what."))),
    section(`Grants (${grants.length})`, grants.length ? table([
      ["grantee", (g) => addr(g.grantee)], ["purpose", (g) => g.grant.purpose],
      ["until", (g) => time(g.grant.until_ms)], ["granted", (g) => blockLink(g.grant.granted)],
      ["revoked", (g) => (g.grant.revoked ? blockLink(g.grant.revoked) : "–")], ["accesses", (g) => num(g.grant.accesses)],
      ["access now", (g) => badge(g.access || "none")],
    ], grants, { id: "health-grants" }) : h("p", { id: "health-grants" }, "the patient has granted nobody access")),
    section(`Access log (${num(log.count)} entries${log.count > LOG_PAGE ? `, the first ${LOG_PAGE}` : ""})`,
      h("ol", { class: "timeline", id: "health-log" }, log.log.map((e) => h("li", {},
        h("div", { class: "when" }, time(e.timestamp_ms), " · ", blockLink(e.height)),
        h("div", {}, badge(e.kind), " by ", addr(e.by), e.party && e.party !== e.by ? [" · ", addr(e.party)] : null,
          e.detail ? ` · ${e.detail}` : ""),
        h("div", { class: "small" }, txLink(e.tx_hash)))))));
}

export async function patient(view, address) {
  const p = await get(`/v1/health/patients/${address}`);
  view.append(h("h1", {}, "Patient"), h("p", {}, addr(p.patient), " · ", link(`account/${p.patient}`, "account")),
    section(`Records (${num(p.records)})`, p.record_ids.length
      ? h("ul", { id: "patient-records" }, p.record_ids.map((r) => h("li", {}, link(`health/record/${r}`, r, "mono"))))
      : h("p", { id: "patient-records" }, "no records")),
    section(`Emergency openings (${num(p.alerts)})`, p.alert_list.length ? table([
      ["record", (a) => link(`health/record/${a.record}`, short(a.record), "mono")], ["doctor", (a) => addr(a.doctor)],
      ["hospital", (a) => a.org], ["reason", (a) => a.reason], ["when", (a) => time(a.timestamp_ms)],
      ["block", (a) => blockLink(a.height)], ["transaction", (a) => txLink(a.tx_hash)],
    ], p.alert_list, { id: "patient-alerts" }) : h("p", { id: "patient-alerts" }, "none")));
}

// A patient's records, for the account page (nothing when the account has none or may not see them).
export async function healthOfAccount(address) {
  try {
    const p = await get(`/v1/health/patients/${address}`);
    if (!p.records && !p.alerts) return null;
    return section("Health records", h("p", { id: "account-health" },
      link(`health/patient/${address}`, `${num(p.records)} record(s), ${num(p.alerts)} emergency opening(s)`)));
  } catch (e) {
    return null;
  }
}

// --- traceability -------------------------------------------------------------------------------

export const itemRoute = (id) => `trace/item/${encodeURIComponent(id)}`;
const itemLink = (id, text) => link(itemRoute(id), text || id, "mono");

// The traced items an account holds or produced, for the account page (nothing when none, or
// when this node keeps no index).
export async function tracedOfAccount(address) {
  let found;
  try { found = await get(`/v1/explorer/trace/accounts/${address}`); } catch (e) { return null; }
  if (!found.items.length) return null;
  return section(`Traced items (${found.items.length}${found.truncated ? "+" : ""})`, table([
    ["item", (i) => itemLink(i.item)], ["product", (i) => i.product], ["kind", (i) => i.kind],
    ["status", (i) => (i.recalled ? badge("recalled") : badge(i.status))],
    ["this account", (i) => [i.holds ? "holds it" : null, i.holds && i.produced ? ", " : null, i.produced ? "produced it" : null]],
  ], found.items, { id: "account-items" }));
}

export async function traceHome(view) {
  view.append(section("Traceability", h("p", {},
    "Materials, batches and products from origin to customer: custody handed over and received, transformations and ",
    "packing, inspections and recalls. Find an item with the search box: an EPC URI (urn:epc:id:sgtin:…), ",
    "a GS1 Digital Link or an industrial-internet id (88.x/…).")));
}

const EDGE = { transform: "made from it", aggregate: "packs it" };

// A tree of the walk from ``root``: ``next(item)`` gives [[item, edge kind], ...] one step further.
function tree(root, next, items, seen = new Set([root])) {
  const kids = next(root).filter(([id]) => !seen.has(id));
  if (!kids.length) return null;
  for (const [id] of kids) seen.add(id);
  return h("ul", {}, kids.map(([id, kind]) => {
    const it = items.get(id);
    return h("li", { "data-item": id }, h("div", { class: "part" }, itemLink(id), " · ",
      it ? it.product : "", " · ", h("span", { class: "muted" }, kind), it ? [" · held by ", addr(it.holder)] : null,
      it && it.status !== "active" ? [" ", badge(it.status)] : null),
    tree(id, next, items, seen));
  }));
}

function eventText(e) {
  const f = e.fields || {};
  switch (e.name) {
    case "Registered": return ["registered as ", f.product || "–", " (", f.kind, ")"];
    case "Observed": return ["observed at ", f.where, f.reading ? ` · ${f.reading}` : ""];
    case "Transformed": return ["transformed ", (f.inputs || []).length, " input(s) into ", (f.outputs || []).length, " output(s)"];
    case "Aggregated": return ["packed ", (f.children || []).length, " item(s) into ", code(f.parent)];
    case "Disaggregated": return ["unpacked ", code(f.parent)];
    case "HandoverOffered": return ["handed over by ", addr(f.sender), " to ", addr(f.receiver)];
    case "HandoverCancelled": return ["handover to ", addr(f.receiver), " withdrawn"];
    case "Received": return ["received by ", addr(f.receiver), " from ", addr(f.sender)];
    case "Certified": return ["inspected: ", badge(f.result), " by ", addr(f.inspector), f.org ? ` (${f.org})` : ""];
    case "Recalled": return ["recalled by ", addr(f.by), ": ", f.reason];
    case "RecallLifted": return ["recall lifted by ", addr(f.by), ": ", f.reason];
    case "Affected": return ["affected by the recall of ", itemLink(f.recall)];
    case "Cleared": return ["cleared of the recall of ", itemLink(f.recall)];
    default: return [value(f)];
  }
}

export async function traceItem(view, id) {
  const q = encodeURIComponent(id);
  const [s, up, down, { events }] = await Promise.all([
    get(`/v1/trace/status?id=${q}`), get(`/v1/trace/provenance?id=${q}`), get(`/v1/trace/where-used?id=${q}`),
    get(`/v1/explorer/trace/events?id=${q}`)]);
  const items = new Map([...up.items, ...down.items].map((i) => [i.item, i]));
  const parents = (x) => up.edges.filter((e) => e.dst === x).map((e) => [e.src, e.kind === "aggregate" ? "packed into it" : "an input"]);
  const children = (x) => down.edges.filter((e) => e.src === x).map((e) => [e.dst, EDGE[e.kind] || e.kind]);
  const custody = events.filter((e) => e.name === "Received");
  view.append(h("h1", {}, "Item"), h("p", {}, code(s.item)),
    s.recalled ? h("p", { class: "notice bad", id: "trace-recall" }, badge("recalled"), " ",
      s.recall_reason ? `recalled: ${s.recall_reason}` : "made from something recalled: ",
      s.affected_by.map((r) => h("span", {}, itemLink(r.item), ` (${r.reason}) `))) : "",
    h("div", { class: "two" },
      section("Item", kv([
        ["product", s.product], ["kind", s.kind], ["status", badge(s.status)],
        ["producer", addr(s.producer)], ["holder", addr(s.holder)],
        s.pending_to ? ["handover pending to", addr(s.pending_to)] : null,
        s.container ? ["packed in", itemLink(s.container)] : null,
        ["registered", h("span", {}, time(s.registered_ms), " at ", blockLink(s.registered_height))],
        ["handovers", num(s.handovers)], ["inspections", num(s.inspections)],
        ["public fields", s.public.length ? s.public.join(", ") : "none"],
      ], { id: "trace-item" })),
      section("Custody", custody.length ? table([
        ["from", (e) => addr(e.fields.sender)], ["to", (e) => addr(e.fields.receiver)],
        ["when", (e) => time(e.timestamp_ms)], ["block", (e) => blockLink(e.height)], ["confirmed in", (e) => txLink(e.tx_hash)],
      ], custody, { id: "trace-custody" }) : h("p", { id: "trace-custody" }, "never handed over"))),
    h("div", { class: "two" },
      section("Comes from (provenance)", h("div", { id: "trace-up" }, tree(s.item, parents, items) || h("p", {}, "nothing: registered here")),
        up.truncated ? h("p", { class: "small" }, "cut at the index's bound") : null),
      section("Went into (where used)", h("div", { id: "trace-down" }, tree(s.item, children, items) || h("p", {}, "nothing yet")),
        down.truncated ? h("p", { class: "small" }, "cut at the index's bound") : null)),
    section(`Inspections upstream (${up.inspections.length})`, up.inspections.length ? table([
      ["item", (e) => itemLink(e.fields.item, short(e.fields.item))], ["result", (e) => badge(e.fields.result)],
      ["inspector", (e) => h("span", {}, addr(e.fields.inspector), e.fields.org ? ` (${e.fields.org})` : "")],
      ["report (SHA-256)", (e) => code(short(e.fields.report))], ["when", (e) => time(e.timestamp_ms)],
      ["transaction", (e) => txLink(e.tx_hash)],
    ], up.inspections, { id: "trace-inspections" }) : h("p", { id: "trace-inspections" }, "none")),
    section(`Events (${events.length})`, h("ol", { class: "timeline", id: "trace-events" }, events.map((e) => h("li", {},
      h("div", { class: "when" }, time(e.timestamp_ms), " · ", blockLink(e.height)),
      h("div", {}, badge(e.name), " ", eventText(e)),
      h("div", { class: "small" }, "signed by ", addr(e.signer), " · ", txLink(e.tx_hash)))))));
}
