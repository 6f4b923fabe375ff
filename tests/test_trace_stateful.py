"""apps/trace (issue 18): random sequences of registrations, transformations, packing and unpacking,
handovers (offered, confirmed, withdrawn), observations, recalls and their lifting, by any firm on
any item (the right one or not), against the invariants of the issue:

* the provenance graph (transformation input → output, item → every container it was ever
  packed in) stays acyclic;
* a consumed input is never used again: every later call naming it is refused
  ``already_consumed``, and no later transformation lists it;
* every completed handover carries both signatures: its record names two transactions, the
  offer signed by the sender and the confirmation signed by the receiver;
* a refusal changes nothing but the sender's nonce; nobody acts on an item they do not hold.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from tests.trace_story import batch, serial
from tests.trace_world import FIRMS, TraceWorld, make_world

from consortia.apps.cbdc.sdk import AppCall
from consortia.apps.trace import sdk
from consortia.codec import encode
from consortia.execution.accounts import account_key

HOLDER_ACTIONS = {"observe", "aggregate", "disaggregate", "transform", "handover"}


class SupplyChain(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w: TraceWorld = make_world()
        self.known: list[str] = []  # every id ever registered (or made)
        self.consumed: set[str] = set()
        self.signer: dict[bytes, bytes] = {}  # tx hash -> the account that sent it
        self.completed = 0
        self.serial = 0

    # --- helpers ---------------------------------------------------------------------------

    def fresh(self, lot: bool) -> str:
        self.serial += 1
        if lot:
            return batch("0950600013435", f"L{self.serial}")
        return serial("0950600013437", f"S{self.serial}")

    def item(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(self.known), label="item")

    def items(self, data: st.DataObject, who: str, most: int) -> list[str]:
        """Mostly items ``who`` holds and may act on now, sometimes any."""
        mine = [i for i in self.known if _free(self.w.item(i), self.w[who])]
        pool = mine if len(mine) >= 1 and data.draw(st.integers(0, 3), label="own?") > 0 else self.known
        return data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=most, unique=True),
                         label="items")

    def send(self, who: str, call: AppCall) -> Any:
        before = dict(self.w.h.state.data)
        consumed_named = [i for i in _named(call) if i in self.consumed]
        out = self.w.send(who, call)
        tx_hash = hashlib.sha256(encode([self.w.h.chain_id, self.w.h.tx_count])).digest()
        self.signer[tx_hash] = self.w[who]
        if not out.ok:
            after = self.w.h.state.data
            changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
            assert changed == {account_key(self.w[who])}, (call.method, out.code, changed)
        elif call.method in HOLDER_ACTIONS:
            for named in _named(call)[:1] if call.method != "transform" else call.args[0]:
                assert self.w.item(named)["holder"] == self.w[who] or call.method == "handover"
        if consumed_named and call.method not in ("certify", "recall", "lift_recall"):
            assert not out.ok, (call.method, consumed_named)
            if call.method in HOLDER_ACTIONS and _named(call)[0] in self.consumed:
                assert out.code in ("already_consumed", "cycle"), (call.method, out.code)
        return out

    # --- rules -------------------------------------------------------------------------------

    @rule(who=st.sampled_from(FIRMS), lot=st.booleans())
    def register(self, who: str, lot: bool) -> None:
        item = self.fresh(lot)
        if self.send(who, sdk.register(item, "thing", ["product"])).ok:
            self.known.append(item)

    @rule(data=st.data(), who=st.sampled_from(FIRMS), outputs=st.integers(1, 3))
    def transform(self, data: st.DataObject, who: str, outputs: int) -> None:
        if not self.known:
            return
        inputs = self.items(data, who, 3)
        made = [self.fresh(data.draw(st.booleans())) for _ in range(outputs)]
        if data.draw(st.integers(0, 4)) == 0:  # sometimes an existing output (refused unless fresh)
            made[0] = self.item(data)
        out = self.send(who, sdk.transform(inputs, made, "made"))
        if out.ok:
            assert not set(inputs) & self.consumed
            self.consumed |= set(inputs)
            self.known.extend(m for m in made if m not in self.known)

    @rule(data=st.data(), who=st.sampled_from(FIRMS))
    def aggregate(self, data: st.DataObject, who: str) -> None:
        if len(self.known) < 2:
            return
        chosen = self.items(data, who, 4)
        parent, children = chosen[0], chosen[1:] or [self.item(data)]
        self.send(who, sdk.aggregate(parent, children))

    @rule(data=st.data(), who=st.sampled_from(FIRMS))
    def disaggregate(self, data: st.DataObject, who: str) -> None:
        if self.known:
            self.send(who, sdk.disaggregate(self.item(data)))

    @rule(data=st.data(), who=st.sampled_from(FIRMS), to=st.sampled_from(FIRMS))
    def handover(self, data: st.DataObject, who: str, to: str) -> None:
        if self.known:
            if to == who and data.draw(st.integers(0, 3)) > 0:  # mostly to someone else
                to = FIRMS[(FIRMS.index(who) + 1) % len(FIRMS)]
            self.send(who, sdk.handover(self.items(data, who, 1)[0], self.w[to]))

    @rule(data=st.data(), who=st.sampled_from(FIRMS))
    def receive(self, data: st.DataObject, who: str) -> None:
        if not self.known:
            return
        pending = [i for i in self.known if self.w.item(i)["pending"]]
        item = self.item(data)
        if pending and data.draw(st.integers(0, 3)) > 0:
            item = data.draw(st.sampled_from(pending))
            if data.draw(st.integers(0, 3)) > 0:  # mostly the party it is handed to
                who = next(f for f in FIRMS if self.w[f] == self.w.item(item)["pending"]["to"])
        if self.send(who, sdk.receive(item)).ok:
            self.completed += 1

    @rule(data=st.data(), who=st.sampled_from(FIRMS))
    def cancel(self, data: st.DataObject, who: str) -> None:
        if self.known:
            self.send(who, sdk.cancel_handover(self.item(data)))

    @rule(data=st.data(), who=st.sampled_from(FIRMS))
    def observe(self, data: st.DataObject, who: str) -> None:
        if self.known:
            self.send(who, sdk.observe(self.item(data), "dock", "ok"))

    @rule(data=st.data(), who=st.sampled_from((*FIRMS, "reg")), lift=st.booleans())
    def recall(self, data: st.DataObject, who: str, lift: bool) -> None:
        if self.known:
            item = self.item(data)
            self.send(who, sdk.lift_recall(item, "clear") if lift else sdk.recall(item, "bad batch"))

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def the_provenance_graph_is_acyclic(self) -> None:
        edges: dict[str, list[str]] = {}
        for item_id in self.known:
            record = self.w.item(item_id)
            edges[item_id] = list(record["outputs"]) + list(record["containers"])
            assert (record["status"] == "consumed") == (item_id in self.consumed)
        state: dict[str, int] = {}  # 1: on the path, 2: done
        for start in edges:
            stack = [(start, iter(edges[start]))]
            if state.get(start):
                continue
            state[start] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    state[node] = 2
                    stack.pop()
                    continue
                assert state.get(child) != 1, f"cycle through {child}"
                if not state.get(child):
                    state[child] = 1
                    stack.append((child, iter(edges.get(child, []))))

    @invariant()
    def every_completed_handover_carries_both_signatures(self) -> None:
        seen = 0
        for item_id in self.known:
            record = self.w.item(item_id)
            for n in range(1, record["handovers"] + 1):
                hand = self.w.view(sdk.handover_of(item_id, n))
                assert hand["sent_tx"] != hand["received_tx"] and hand["sender"] != hand["receiver"]
                assert self.signer[hand["sent_tx"]] == hand["sender"]
                assert self.signer[hand["received_tx"]] == hand["receiver"]
                seen += 1
        assert seen == self.completed


def _free(record: dict[str, Any], who: bytes) -> bool:
    return (record["holder"] == who and record["status"] == "active" and not record["pending"]
            and not record["container"])


def _named(call: AppCall) -> list[str]:
    """The item ids a call names (inputs first for a transformation)."""
    out: list[str] = []
    for arg in call.args:
        if isinstance(arg, str) and arg.startswith(("https://", "88.")):
            out.append(arg)
        elif isinstance(arg, list):
            out.extend(a for a in arg if isinstance(a, str) and a.startswith(("https://", "88.")))
    return out


SupplyChain.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)  # fmt: skip
test_supply_chain = SupplyChain.TestCase
