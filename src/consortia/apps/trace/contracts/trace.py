"""Industrial traceability: identified items and batches, EPCIS 2.0 events in meaning, two-sided
custody handover, inspections, and recalls that reach everything made from a bad batch
(issue 18, decisions/0021).

This file is contract source (deployed as text at genesis), not a module of the consortia package.

Items are named by a canonical identifier (the SDK turns EPC URIs into it, ``apps/trace/identifiers``):

    https://id.gs1.org/01/<GTIN-14>/21/<serial>    a serialised item (SGTIN)
    https://id.gs1.org/01/<GTIN-14>/10/<lot>       a batch (LGTIN)
    https://id.gs1.org/00/<SSCC-18>                a logistic unit: pallet, container (SSCC)
    88.<n>[.<n>...]/<suffix>                       an industrial-internet identifier (Handle-based)

GTINs and SSCCs carry their GS1 check digit, checked here.

    register(id, product, public)            any active party: the producer     Registered
    observe(id, where, reading)              the holder                         Observed
    aggregate(parent, children)              the holder of all of them          Aggregated
    disaggregate(parent)                     the holder                         Disaggregated
    transform(inputs, outputs, product)      the inputs' holder; outputs new    Transformed
    handover(id, to) / cancel_handover(id)   the holder                         HandoverOffered / -Cancelled
    receive(id)                              the party handed to                Received
    certify(id, result, report, anchor)      staff of an ``inspector`` org      Certified
    recall(id, reason) / lift_recall(...)    the producer or the regulator      Recalled / RecallLifted
        (every item downstream: Affected / Cleared; each holder of them: HolderAlerted and an alert)
    views: get, count, handover_of

Refusal codes: see ERRORS below (the SDK lists the same).
"""

from consortia_contract import Contract, Map, Record, Value, public, require, view

ERRORS = (
    "bad_id", "bad_text", "bad_list", "bad_result", "bad_hash", "bad_public", "bad_address",
    "unknown_party", "party_frozen", "unknown_item", "already_registered", "not_holder",
    "handover_pending", "no_handover", "not_receiver", "self_handover", "already_consumed", "packed",
    "not_aggregated", "cycle", "output_exists", "recalled", "already_recalled", "not_recalled",
    "not_inspector", "not_recaller",
)

DL_ITEM = "https://id.gs1.org/01/"
DL_UNIT = "https://id.gs1.org/00/"
SERIAL = "21"
LOT = "10"
III_PREFIX = "88."
DIGITS = "0123456789"
VALUE_CHARS = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-._"
III_CHARS = VALUE_CHARS + "/:"
MAX_VALUE = 20
"""Characters of a serial number or lot (GS1 AI 21 and 10)."""
MAX_III_SUFFIX = 100
MAX_ID = 160
MAX_TEXT = 200
MAX_ITEMS = 64
"""Items one aggregate or transform names (children, inputs, outputs)."""
PUBLIC_FIELDS = ("product", "producer", "registered", "holder", "inspections", "observations", "provenance")
"""Fields a producer may mark public for the verification view (a recall is always shown)."""
RESULTS = ("pass", "fail")
HASH_BYTES = 32
INSPECTOR = "inspector"
REGULATOR = "regulator"
ACTIVE = "active"
CONSUMED = "consumed"


def hexa(address: bytes) -> str:
    return "0x" + address.hex()


def check_digit_ok(digits: str) -> bool:
    """The GS1 mod-10 check digit (weights 3, 1, 3, ... from the right, the check digit excluded)."""
    total = 0
    weight = 3
    for n in range(len(digits) - 2, -1, -1):
        total += (ord(digits[n]) - 48) * weight
        weight = 4 - weight
    return (10 - total % 10) % 10 == ord(digits[len(digits) - 1]) - 48


def only(text: str, chars: str) -> bool:
    return all(c in chars for c in text)


def id_kind(item_id: str) -> str:
    """``serial``, ``batch``, ``unit`` or ``iii``; refuses anything else with ``bad_id``."""
    require(isinstance(item_id, str) and 0 < len(item_id) <= MAX_ID,
            f"an item id is text of 1 to {MAX_ID} characters, got {repr(item_id)[:60]}", "bad_id")
    if item_id.startswith(DL_ITEM):
        parts = item_id[len(DL_ITEM):].split("/")
        require(len(parts) == 3 and len(parts[0]) == 14 and only(parts[0], DIGITS),
                f"{item_id[:80]!r}: a GS1 Digital Link item is {DL_ITEM}<14-digit GTIN>/21/<serial> or "
                "/10/<lot>", "bad_id")
        require(check_digit_ok(parts[0]), f"GTIN {parts[0]} fails its check digit", "bad_id")
        require(parts[1] in (SERIAL, LOT), f"{item_id[:80]!r}: after the GTIN comes 21 (serial) or 10 (lot), "
                                           f"got {parts[1][:8]!r}", "bad_id")
        require(0 < len(parts[2]) <= MAX_VALUE and only(parts[2], VALUE_CHARS),
                f"a serial or lot is 1 to {MAX_VALUE} letters, digits, '-', '.' or '_'; "
                f"got {parts[2][:40]!r}", "bad_id")
        return "serial" if parts[1] == SERIAL else "batch"
    if item_id.startswith(DL_UNIT):
        sscc = item_id[len(DL_UNIT):]
        require(len(sscc) == 18 and only(sscc, DIGITS),
                f"{item_id[:80]!r}: a logistic unit is {DL_UNIT}<18-digit SSCC>", "bad_id")
        require(check_digit_ok(sscc), f"SSCC {sscc} fails its check digit", "bad_id")
        return "unit"
    if item_id.startswith(III_PREFIX):
        slash = item_id.find("/")
        prefix = item_id[:slash] if slash > 0 else ""
        segments = prefix.split(".")
        good = slash > 0 and 2 <= len(segments) <= 6
        for seg in segments:
            good = good and 0 < len(seg) <= 8 and only(seg, DIGITS)
        suffix = item_id[slash + 1:] if slash > 0 else ""
        require(good and 0 < len(suffix) <= MAX_III_SUFFIX and only(suffix, III_CHARS),
                f"{item_id[:80]!r}: an industrial-internet identifier is 88.<n>[.<n>...]/<suffix> "
                f"(digits in the prefix; the suffix 1 to {MAX_III_SUFFIX} letters, digits, '-', '.', '_', "
                "'/', ':')", "bad_id")
        return "iii"
    fail_id(item_id)
    return ""


def fail_id(item_id: str) -> None:
    require(False, f"{item_id[:80]!r} is not a canonical item id ({DL_ITEM}..., {DL_UNIT}... or 88.x/...; "
                   "the SDK turns EPC URIs into this form)", "bad_id")


def printable(text: str) -> bool:
    return all(32 <= ord(c) != 127 for c in text)


def check_text(value: str, what: str, empty: bool) -> None:
    require(isinstance(value, str) and (empty or len(value) > 0) and len(value) <= MAX_TEXT
            and printable(value),
            f"{what} is printable text of {0 if empty else 1} to {MAX_TEXT} characters", "bad_text")


def check_ids(ids: list, what: str) -> None:
    require(isinstance(ids, list) and 0 < len(ids) <= MAX_ITEMS,
            f"{what} lists 1 to {MAX_ITEMS} items, got "
            f"{len(ids) if isinstance(ids, list) else repr(ids)[:40]}", "bad_list")
    for n in range(len(ids)):
        require(isinstance(ids[n], str) and ids[n] not in ids[:n], f"{what} names {repr(ids[n])[:80]} twice",
                "bad_list")


class Empty(Record):
    """``{}``: no handover pending, no recall."""


class Pending(Record):
    """A handover sent and not yet received."""
    to: bytes
    since: int
    tx: bytes


class Recall(Record):
    reason: str
    by: bytes
    at: int
    tx: bytes


class Item(Record):
    """An item (lot, unit, container): producer, holder, graph links, handover, recall."""
    id: str
    kind: str
    product: str
    producer: bytes
    holder: bytes
    public: list[str]
    registered: int
    height: int
    status: str
    container: str
    containers: list[str]
    children: list[str]
    inputs: list[str]
    outputs: list[str]
    pending: Pending | Empty
    recall: Recall | Empty
    affected: list[str]
    handovers: int
    inspections: int


class Handover(Record):
    """A completed handover: who sent, who received, when, in which transactions."""
    n: int
    sender: bytes
    receiver: bytes
    sent_tx: bytes
    sent: int
    received_tx: bytes
    received: int


class Trace(Contract):
    items = Map(str, dict)
    handovers = Map(str, Map(int, dict))
    count_items = Value(int)

    # --- identity and registration ---------------------------------------------------------

    @public
    def register(self, item_id: str, product: str, public_fields: list) -> dict:
        """The producer registers an item or batch it holds from now on."""
        kind = id_kind(item_id)
        check_text(product, "the product description", False)
        require(isinstance(public_fields, list) and len(public_fields) <= len(PUBLIC_FIELDS),
                f"public fields are a list of {list(PUBLIC_FIELDS)}", "bad_public")
        for n in range(len(public_fields)):
            require(public_fields[n] in PUBLIC_FIELDS and public_fields[n] not in public_fields[:n],
                    f"public fields are distinct names among {list(PUBLIC_FIELDS)}, got "
                    f"{repr(public_fields[n])[:40]}", "bad_public")
        self.party(self.caller, "the producer")
        require(self.items.get(item_id) is None, f"{item_id} is already registered", "already_registered")
        return self.create(item_id, kind, product, public_fields)

    # --- events on held items ------------------------------------------------------------

    @public
    def observe(self, item_id: str, where: str, reading: str) -> None:
        item = self.held(item_id)
        check_text(where, "where", False)
        check_text(reading, "the reading", True)
        self.items[item_id] = item
        self.emit("Observed", item=item_id, by=self.caller, where=where, reading=reading)

    @public
    def aggregate(self, parent_id: str, children: list) -> None:
        check_ids(children, "the children")
        parent = self.held(parent_id)
        self.unaffected(parent)
        require(parent_id not in children, f"{parent_id} cannot contain itself", "cycle")
        above = self.ever_containers(parent_id)
        loaded = []
        for child_id in children:
            child = self.held(child_id)
            self.unaffected(child)
            require(child_id not in above, f"{parent_id} was packed in {child_id} (or in what it was packed "
                                           "in): packing it back would make a cycle", "cycle")
            child["container"] = parent_id
            if parent_id not in child["containers"]:
                child["containers"] = child["containers"] + [parent_id]
            loaded.append(child)
        for child in loaded:
            self.items[child["id"]] = child
        parent["children"] = parent["children"] + children
        self.items[parent_id] = parent
        self.emit("Aggregated", parent=parent_id, children=children, by=self.caller)

    @public
    def disaggregate(self, parent_id: str) -> list:
        parent = self.held(parent_id)
        children = parent["children"]
        require(len(children) > 0, f"{parent_id} contains nothing", "not_aggregated")
        for child_id in children:
            child = self.items[child_id]
            child["container"] = ""
            self.items[child_id] = child
        parent["children"] = []
        self.items[parent_id] = parent
        self.emit("Disaggregated", parent=parent_id, children=children, by=self.caller)
        return children

    @public
    def transform(self, inputs: list, outputs: list, product: str) -> None:
        """Inputs consumed, outputs made (new ids, or ids the caller registered and never used)."""
        check_ids(inputs, "the inputs")
        check_ids(outputs, "the outputs")
        check_text(product, "the outputs' product description", True)
        for output_id in outputs:
            require(output_id not in inputs, f"{output_id} is both an input and an output", "cycle")
        used = []
        for input_id in inputs:
            item = self.held(input_id)
            self.unaffected(item)
            require(len(item["children"]) == 0, f"{input_id} contains {len(item['children'])} item(s): "
                                                "disaggregate it first", "packed")
            used.append(item)
        made = []
        for output_id in outputs:
            kind = id_kind(output_id)
            item = self.items.get(output_id)
            if item is None:
                require(len(product) > 0, f"{output_id} is new: give the product it is", "bad_text")
                made.append([output_id, kind])
            else:
                require(item["holder"] == self.caller and item["producer"] == self.caller
                        and len(item["inputs"]) == 0 and len(item["outputs"]) == 0
                        and len(item["containers"]) == 0 and len(item["children"]) == 0
                        and item["status"] == ACTIVE and len(item["pending"]) == 0,
                        f"{output_id} exists and is not a fresh item of {hexa(self.caller)}: outputs are new",
                        "output_exists")
        for item in used:
            item["status"] = CONSUMED
            item["outputs"] = outputs
            self.items[item["id"]] = item
        for entry in made:
            self.create(entry[0], entry[1], product, [])
        for output_id in outputs:
            out = self.items[output_id]
            out["inputs"] = inputs
            self.items[output_id] = out
        self.emit("Transformed", inputs=inputs, outputs=outputs, by=self.caller, product=product)

    # --- custody: sender hands over, receiver confirms ---------------------------------------

    @public
    def handover(self, item_id: str, to: bytes) -> None:
        item = self.held(item_id)
        self.party(to, "the receiver")
        require(to != self.caller, f"{hexa(to)} already holds {item_id}", "self_handover")
        if len(item["affected"]) > 0:
            producers = [self.items[r]["producer"] for r in item["affected"]]
            require(to in producers, f"{item_id} is affected by the recall of {item['affected']}: it may "
                                     "only be returned to the recalling producer", "recalled")
        item["pending"] = {"to": to, "since": self.block.timestamp_ms, "tx": self.tx_hash}
        self.items[item_id] = item
        self.emit("HandoverOffered", item=item_id, sender=self.caller, receiver=to)

    @public
    def cancel_handover(self, item_id: str) -> None:
        item = self.load(item_id)
        pending = item["pending"]
        require(len(pending) > 0, f"{item_id} has no pending handover", "no_handover")
        require(self.caller == item["holder"], f"only the sender {hexa(item['holder'])} withdraws the "
                                               f"handover of {item_id}", "not_holder")
        item["pending"] = {}
        self.items[item_id] = item
        self.emit("HandoverCancelled", item=item_id, sender=self.caller, receiver=pending["to"])

    @public
    def receive(self, item_id: str) -> list:
        item = self.load(item_id)
        pending = item["pending"]
        require(len(pending) > 0, f"{item_id} has no pending handover", "no_handover")
        require(self.caller == pending["to"], f"{item_id} is handed to {hexa(pending['to'])}, not "
                                              f"{hexa(self.caller)}", "not_receiver")
        self.party(self.caller, "the receiver")
        sender = item["holder"]
        item["pending"] = {}
        n = item["handovers"] + 1
        item["handovers"] = n
        self.items[item_id] = item
        moved = self.move_tree(item_id, self.caller)
        self.handovers[item_id][n] = {
            "n": n, "sender": sender, "receiver": self.caller, "sent_tx": pending["tx"],
            "sent": pending["since"], "received_tx": self.tx_hash, "received": self.block.timestamp_ms,
        }
        self.emit("Received", item=item_id, sender=sender, receiver=self.caller, sent_tx=pending["tx"],
                  items=moved, n=n)
        return moved

    # --- inspections ---------------------------------------------------------------------

    @public
    def certify(self, item_id: str, result: str, report: bytes, anchor: bytes) -> int:
        """An inspector's pass/fail with its report's hash; ``anchor``: the notary root that
        stamped the report (its receipt proves it), or empty."""
        item = self.load(item_id)
        require(result in RESULTS, f"the result is one of {list(RESULTS)}, got {repr(result)[:20]}",
                "bad_result")
        require(isinstance(report, bytes) and len(report) == HASH_BYTES,
                f"the report is its {HASH_BYTES}-byte SHA-256 hash", "bad_hash")
        require(isinstance(anchor, bytes) and len(anchor) in (0, HASH_BYTES),
                f"the anchor is a {HASH_BYTES}-byte notary root or empty", "bad_hash")
        who = self.party(self.caller, "the inspector")
        require(who.get("org_role") == INSPECTOR and who.get("role") != "wallet",
                f"{hexa(self.caller)} is {describe(who)}, not staff of an {INSPECTOR} organisation",
                "not_inspector")
        n = item["inspections"] + 1
        item["inspections"] = n
        self.items[item_id] = item
        self.emit("Certified", item=item_id, inspector=self.caller, org=who.get("org"), result=result,
                  report=report, anchor=anchor, n=n)
        return n

    # --- recall --------------------------------------------------------------------------

    @public
    def recall(self, item_id: str, reason: str) -> list:
        """Flag ``item_id`` and everything made from it or packed around it; alert their holders."""
        item = self.load(item_id)
        check_text(reason, "the reason", False)
        self.recaller(item)
        require(len(item["recall"]) == 0, f"{item_id} was recalled at {item['recall'].get('at')}",
                "already_recalled")
        item["recall"] = {"reason": reason, "by": self.caller, "at": self.block.timestamp_ms,
                          "tx": self.tx_hash}
        self.items[item_id] = item
        reached = self.downstream(item_id)
        self.emit("Recalled", item=item_id, by=self.caller, reason=reason, reached=len(reached))
        holders = []
        held = []
        for found_id in reached:
            found = self.items[found_id]
            found["affected"] = found["affected"] + [item_id]
            self.items[found_id] = found
            self.emit("Affected", item=found_id, recall=item_id, holder=found["holder"],
                      affected=found["affected"])
            if found["holder"] not in holders:
                holders.append(found["holder"])
                held.append([])
            held[holders.index(found["holder"])].append(found_id)
        for n in range(len(holders)):
            self.alert_regulator(
                "recall", holders[n], 0,
                f"{len(held[n])} item(s) held by {hexa(holders[n])} are affected by the recall of {item_id} "
                f"({reason}): {', '.join(held[n][:5])}{' ...' if len(held[n]) > 5 else ''}"[:480])
            self.emit("HolderAlerted", holder=holders[n], recall=item_id, items=held[n])
        return reached

    @public
    def lift_recall(self, item_id: str, reason: str) -> list:
        item = self.load(item_id)
        check_text(reason, "the reason", False)
        self.recaller(item)
        require(len(item["recall"]) > 0, f"{item_id} is not recalled", "not_recalled")
        item["recall"] = {}
        self.items[item_id] = item
        reached = self.downstream(item_id)
        self.emit("RecallLifted", item=item_id, by=self.caller, reason=reason, reached=len(reached))
        for found_id in reached:
            found = self.items[found_id]
            if item_id in found["affected"]:
                found["affected"] = [r for r in found["affected"] if r != item_id]
                self.items[found_id] = found
                self.emit("Cleared", item=found_id, recall=item_id, holder=found["holder"],
                          affected=found["affected"])
        return reached

    # --- views -----------------------------------------------------------------------------

    @view
    def get(self, item_id: str) -> Item:
        return self.load(item_id)

    @view
    def count(self) -> int:
        return self.count_items

    @view
    def handover_of(self, item_id: str, n: int) -> Handover:
        item = self.load(item_id)
        require(isinstance(n, int) and 0 < n <= item["handovers"],
                f"{item_id} has {item['handovers']} completed handover(s), not {n!r}", "no_handover")
        return self.handovers[item_id][n]

    # --- internals -------------------------------------------------------------------------

    def create(self, item_id: str, kind: str, product: str, public_fields: list) -> dict:
        item = {
            "id": item_id, "kind": kind, "product": product, "producer": self.caller, "holder": self.caller,
            "public": public_fields, "registered": self.block.timestamp_ms, "height": self.block.height,
            "status": ACTIVE, "container": "", "containers": [], "children": [], "inputs": [], "outputs": [],
            "pending": {}, "recall": {}, "affected": [], "handovers": 0, "inspections": 0,
        }
        self.items[item_id] = item
        self.count_items += 1
        self.emit("Registered", item=item_id, kind=kind, product=product, producer=self.caller,
                  public=public_fields)
        return item

    def load(self, item_id: str) -> dict:
        require(isinstance(item_id, str) and len(item_id) <= MAX_ID,
                f"an item id is text of at most {MAX_ID} characters", "bad_id")
        item = self.items.get(item_id)
        require(item is not None, f"no item {item_id[:80]!r} is registered", "unknown_item")
        return item

    def held(self, item_id: str) -> dict:
        """An item the caller holds and may act on now."""
        item = self.load(item_id)
        require(item["status"] != CONSUMED, f"{item_id} was consumed by a transformation into "
                                            f"{item['outputs'][:3]}", "already_consumed")
        if len(item["pending"]) > 0:
            require(False, f"{item_id} is being handed over to {hexa(item['pending']['to'])}: nothing "
                           "else happens to it until the receiver confirms or the sender cancels",
                    "handover_pending")
        require(self.caller == item["holder"], f"{item_id} is held by {hexa(item['holder'])}, not "
                                               f"{hexa(self.caller)}", "not_holder")
        require(item["container"] == "", f"{item_id} is packed in {item['container']}: act on the "
                                          "container, or disaggregate it first", "packed")
        return item

    def unaffected(self, item: dict) -> None:
        require(len(item["affected"]) == 0, f"{item['id']} is affected by the recall of {item['affected']}",
                "recalled")

    def party(self, address: bytes, what: str) -> dict:
        require(isinstance(address, bytes) and len(address) == 20, f"{what} must be a 20-byte address",
                "bad_address")
        who = self.identity_of(address)
        require(who is not None and "contract" not in who and who.get("status") == "active",
                f"{what} {hexa(address)} must be an active, identified party; it is {describe(who)}",
                "unknown_party")
        require(not who.get("frozen"), f"{what} {hexa(address)} is frozen by the regulator", "party_frozen")
        return who

    def recaller(self, item: dict) -> None:
        if self.caller == item["producer"]:
            return
        who = self.identity_of(self.caller)
        require(who is not None and who.get("org_role") == REGULATOR and who.get("status") == "active",
                f"{item['id']} is recalled (or its recall lifted) by its producer "
                f"{hexa(item['producer'])} or the regulator, not {describe(who)}", "not_recaller")

    def ever_containers(self, item_id: str) -> list:
        """Every container ``item_id`` was ever packed in, and theirs, transitively."""
        out = []
        todo = [item_id]
        while len(todo) > 0:
            current = self.items[todo.pop()]
            for above in current["containers"]:
                if above not in out:
                    out.append(above)
                    todo.append(above)
        return out

    def downstream(self, item_id: str) -> list:
        """Everything made from ``item_id`` (transformation outputs) or packed around it now
        (its container and theirs), transitively, in the order found."""
        out = []
        todo = [item_id]
        while len(todo) > 0:
            current = self.items[todo.pop(0)]
            nxt = list(current["outputs"])
            if current["container"] != "":
                nxt.append(current["container"])
            for found in nxt:
                if found != item_id and found not in out:
                    out.append(found)
                    todo.append(found)
        return out

    def move_tree(self, item_id: str, to: bytes) -> list:
        """The item and everything packed in it (transitively) change holder."""
        moved = []
        todo = [item_id]
        while len(todo) > 0:
            current = self.items[todo.pop(0)]
            current["holder"] = to
            self.items[current["id"]] = current
            moved.append(current["id"])
            todo.extend(current["children"])
        return moved


def describe(who: dict | None) -> str:
    if who is None:
        return "no identity"
    if "contract" in who:
        return f"the contract {who['contract']!r}"
    return f"a {who.get('status')} {who.get('role')} of {who.get('org')!r} ({who.get('org_role')})"
