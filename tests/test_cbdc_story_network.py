"""The story of issue 9 on four real validators, through the Python SDK: the central bank issues
to two banks, the banks open and fund tiered wallets, a payment crosses banks and a tier limit
refuses one, a subsidy is earmarked for one merchant and expires by itself, one escrow is released
and another refunds by itself, the regulator resolves a wallet's identity, a bank redeems, and at
the end the money supply equals the sum of every balance and the four nodes agree on the state.

Each party talks to its own node (central bank: node 0, bank-a: node 1, bank-b: node 2, the
regulator: node 3), so every step also crosses the peer network."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.procs import NetNode, api_client, api_get, running_network, wait_for

from consortia.client.cbdc import CbdcQueries, CbdcWallet, ContractRefused, NewWallet
from consortia.client.client import Client
from consortia.client.wallet import Wallet
from consortia.contracts.permissioned.errors import LimitExceeded
from consortia.contracts.permissioned.monetary import reserve_address
from consortia.contracts.python.api import address_of
from consortia.contracts.python.json_data import from_json
from consortia.crypto import sealed
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file
from consortia.crypto.keys import KeyPair

pytestmark = pytest.mark.slow

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"
APPS = ("escrow", "earmark", "payments", "resolve")
TIMEOUT = 30.0
"""Seconds any one wait may take (a transaction's finality, a height, a node catching up)."""

# amounts in fen; tier 4 (phone only): 200,000 per payment, 500,000 a day, 1,000,000 balance
ISSUE_A, ISSUE_B = 10_000_000, 8_000_000
FUND_AGENCY, FUND_SHOP_A, FUND_W4, FUND_SHOP_B = 3_000_000, 100_000, 300_000, 50_000
CROSS_BANK = 150_000
OVER_LIMIT = 250_000
SUBSIDY, SUBSIDY_SPENT = 200_000, 80_000
RELEASED, REFUNDED = 300_000, 100_000
REDEEMED = 500_000
PHONE = "+86 138 0000 0000"


def _balance(node: NetNode, address: bytes) -> int:
    return int(api_get(f"{node.url}/v1/accounts/{format_address(address)}", timeout=5).json()["balance"])


def _why_stuck(nodes: list[NetNode]) -> str:
    """Each node's height (or that it is gone) and the halting lines of its log."""
    heights = []
    for node in nodes:
        try:
            heights.append(str(node.height()))
        except httpx.HTTPError:
            heights.append("down" if node.proc is not None and node.proc.poll() is not None else "no answer")
    halts = sorted({line.split("CRITICAL ", 1)[-1] for node in nodes
                    for line in (node.home / "test-node.log").read_text(errors="replace").splitlines()
                    if "halting" in line})
    return f"heights {heights}; {halts or 'no node logged a halt'}"


@contextmanager
def _clients(nodes: list[NetNode]) -> Iterator[list[Client]]:
    clients = [api_client(n.url, timeout=TIMEOUT) for n in nodes]
    try:
        yield clients
    finally:
        for c in clients:
            c.close()


def _party(key: KeyPair, client: Client) -> CbdcWallet:
    return CbdcWallet(Wallet(key, client), timeout=TIMEOUT)


def _open(bank: CbdcWallet, tier: int, name: str | None = None, phone: str | None = None) -> NewWallet:
    opened = bank.open_wallet(tier, name=name, phone=phone)
    assert opened.result.status == "ok", opened.result
    return opened.wallet


@pytest.mark.timeout(300)
def test_currency_story_through_the_sdk(tmp_path: Path) -> None:
    with running_network(tmp_path / "net", "--orgs", ORGS) as (info, nodes), _clients(nodes) as clients:
        wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block on every node")

        def synced(height: int, what: str = "") -> None:
            """Every node has committed ``height`` (what one party did, the next one sees); if
            not in time, fail with each node's height and why a node halted."""
            def reached() -> bool:
                if any(n.proc is None or n.proc.poll() is not None for n in nodes):
                    raise AssertionError("a node process exited")  # no use waiting any longer
                return min(n.height() for n in nodes) >= height

            try:
                wait_for(reached, TIMEOUT, f"every node at {height}")
            except AssertionError:
                stuck = _why_stuck(nodes)
                raise AssertionError(f"the nodes did not all reach height {height}{what}: {stuck}") from None

        def height_of(result: Any) -> int:
            return int(result.height)

        def admin_key(org: str) -> KeyPair:
            return load_key_file(Path(next(o["admin_key"] for o in info["orgs"] if o["name"] == org)))

        dev = {k["name"]: load_key_file(Path(k["file"])) for k in info["keys"]}
        admins = {o["name"]: admin_key(o["name"]) for o in info["orgs"]}
        cb = _party(admins["cb"], clients[0])
        bank_a = _party(admins["bank-a"], clients[1])
        bank_b = _party(admins["bank-b"], clients[2])
        reg = _party(admins["reg"], clients[3])
        views = [CbdcQueries(c) for c in clients]
        before = views[0].supply()

        # 1. the central bank issues to both banks; the supply per bank shows it (on another node)
        synced(height_of(cb.issue("bank-a", ISSUE_A)))
        synced(height_of(cb.issue("bank-b", ISSUE_B)))
        supply = views[3].supply()
        for org, amount in (("bank-a", ISSUE_A), ("bank-b", ISSUE_B)):
            earlier = before["by_org"].get(org, {}).get("issued", 0)  # listed once it has supply
            assert supply["by_org"][org]["issued"] == earlier + amount, supply
        assert supply["issued"] == before["issued"] + ISSUE_A + ISSUE_B
        assert views[1].reserve("bank-a")["balance"] == ISSUE_A
        assert views[2].reserve("bank-b")["balance"] == ISSUE_B

        # 2. bank-a: a tier-1 firm (the agency) and a tier-1 merchant; bank-b: a tier-4 wallet
        # (phone only) and a tier-3 merchant; each bank funds its wallets from its reserve
        agency_new = _open(bank_a, 1, name="Social Welfare Agency")
        shop_a_new = _open(bank_a, 1, name="Bookshop A Ltd")
        w4_new = _open(bank_b, 4, phone=PHONE)
        shop_b_new = _open(bank_b, 3, name="Grocer B")
        bank_a.fund(agency_new.key.address, FUND_AGENCY)
        bank_a.fund(shop_a_new.key.address, FUND_SHOP_A)
        bank_b.fund(w4_new.key.address, FUND_W4)
        synced(height_of(bank_b.fund(shop_b_new.key.address, FUND_SHOP_B)))
        agency, shop_a = _party(agency_new.key, clients[1]), _party(shop_a_new.key, clients[1])
        w4, shop_b = _party(w4_new.key, clients[2]), _party(shop_b_new.key, clients[2])
        for view, new, tier, org, funded in (
            (views[1], agency_new, 1, "bank-a", FUND_AGENCY),
            (views[1], shop_a_new, 1, "bank-a", FUND_SHOP_A),
            (views[2], w4_new, 4, "bank-b", FUND_W4),
            (views[2], shop_b_new, 3, "bank-b", FUND_SHOP_B),
        ):
            shown = view.wallet(new.key.address)
            got = (shown["tier"], shown["org"], shown["role"], shown["balance"])
            assert got == (tier, org, "wallet", funded), shown
            assert shown["commitment"] == "0x" + new.record.commitment.hex()
        assert w4_new.record.personal_data == {"phone": PHONE}
        assert views[0].reserve("bank-a")["balance"] == ISSUE_A - FUND_AGENCY - FUND_SHOP_A
        assert views[0].reserve("bank-b")["balance"] == ISSUE_B - FUND_W4 - FUND_SHOP_B

        # 3. across banks: the agency (tier 1, bank-a) pays the tier-4 wallet (bank-b)
        paid = agency.pay(w4.address, CROSS_BANK)
        assert paid.status == "ok", paid
        synced(paid.height)
        w4_balance = FUND_W4 + CROSS_BANK
        assert views[2].wallet(w4.address)["balance"] == w4_balance
        assert _balance(nodes[1], agency.address) == FUND_AGENCY - CROSS_BANK
        # a tier-4 payment above its per-payment limit is refused with the figures; nothing moves
        with pytest.raises(LimitExceeded) as over:
            w4.pay(shop_b.address, OVER_LIMIT)
        assert "250000" in over.value.message and "200000" in over.value.message, over.value.message
        assert "per-payment" in over.value.message
        assert views[2].wallet(w4.address)["balance"] == w4_balance
        assert views[2].wallet(w4.address)["spent_today"] == 0
        assert views[2].wallet(shop_b.address)["balance"] == FUND_SHOP_B

        # 4. a subsidy: the agency earmarks funds for the tier-4 wallet, payable only at shop B,
        # expiring a few blocks ahead
        expires = clients[1].height() + 12
        made = agency.earmark_create(w4.address, [shop_b.address], expires, SUBSIDY)
        earmark_id = made.id
        assert made.fields["amount"] == SUBSIDY and made.fields["expires"] == expires
        synced(made.receipt.height)
        spent = w4.earmark_spend(earmark_id, shop_b.address, SUBSIDY_SPENT)
        assert spent.ok and spent.height < expires, (spent, expires)
        with pytest.raises(ContractRefused) as elsewhere:
            w4.earmark_spend(earmark_id, shop_a.address, 10_000)
        assert elsewhere.value.code == "payee_not_allowed", elsewhere.value.to_dict()
        assert elsewhere.value.details["height"] < expires, "the refusal came before the expiry"
        open_mark = views[2].earmark(earmark_id)
        assert (open_mark["status"], open_mark["remaining"]) == ("open", SUBSIDY - SUBSIDY_SPENT)
        assert _balance(nodes[2], shop_b.address) == FUND_SHOP_B + SUBSIDY_SPENT
        assert _balance(nodes[2], w4.address) == w4_balance, "the subsidy is not the wallet's balance"
        # no one sends anything: at the expiry height the chain returns the rest to the agency
        synced(expires, " (the earmark's expiry, where the chain runs its scheduled expire call)")
        wait_for(lambda: views[1].earmark(earmark_id)["status"] == "expired", TIMEOUT, "the earmark expired")
        expired = views[1].earmark(earmark_id)
        assert expired["remaining"] == 0 and expired["closed"] >= expires, expired
        agency_balance = FUND_AGENCY - CROSS_BANK - SUBSIDY_SPENT
        assert _balance(nodes[1], agency.address) == agency_balance
        assert _balance(nodes[0], address_of("earmark")) == 0

        # 5. escrow released by its named releaser (carol, a third party): the payee is paid
        carol = _party(dev["carol"], clients[3])
        held = agency.escrow_create(shop_a.address, carol.address, clients[1].height() + 100, RELEASED)
        synced(held.receipt.height)
        with pytest.raises(ContractRefused) as not_releaser:
            agency.escrow_release(held.id)
        assert not_releaser.value.code == "escrow_not_releasable"
        synced(carol.escrow_release(held.id).height)
        released = views[3].escrow(held.id)
        assert released["status"] == "released" and released["amount"] == RELEASED
        assert _balance(nodes[1], shop_a.address) == FUND_SHOP_A + RELEASED
        agency_balance -= RELEASED
        assert _balance(nodes[1], agency.address) == agency_balance
        # another escrow, never released: refunded after its deadline by the chain itself
        deadline = clients[2].height() + 4
        lapsing = w4.escrow_create(shop_b.address, carol.address, deadline, REFUNDED)
        assert _balance(nodes[2], w4.address) == w4_balance - REFUNDED
        synced(deadline + 1, " (after the escrow's deadline, where the chain runs its scheduled refund)")
        wait_for(lambda: views[2].escrow(lapsing.id)["status"] == "refunded", TIMEOUT, "the escrow refunded")
        refunded = views[2].escrow(lapsing.id)
        assert refunded["settled"] > deadline, refunded
        assert _balance(nodes[2], w4.address) == w4_balance
        assert _balance(nodes[2], shop_b.address) == FUND_SHOP_B + SUBSIDY_SPENT
        assert _balance(nodes[0], address_of("escrow")) == 0

        # 6. the regulator asks who holds the tier-4 wallet; bank-b answers sealed to its key
        asked = reg.resolve_request(w4.address, "court order 2024-17")
        synced(asked.receipt.height)
        with pytest.raises(ContractRefused) as not_its_bank:
            bank_a.resolve_answer(asked.id, w4_new.record)
        assert not_its_bank.value.code == "not_wallet_bank"
        synced(height_of(bank_b.resolve_answer(asked.id, w4_new.record)))
        found = views[3].resolution(asked.id, admins["reg"])  # decrypted here, the key stays local
        assert found["matches_commitment"] is True, found
        assert found["personal_data"] == {"phone": PHONE} and found["org"] == "bank-b"
        assert found["wallet"] == format_address(w4.address)
        assert found["commitment"] == views[3].wallet(w4.address)["commitment"]
        assert found["salt"] == "0x" + w4_new.record.salt.hex()
        ciphertext = from_json(views[3].resolve_request(asked.id)["ciphertext"])
        for outsider in ("bank-a", "cb"):
            with pytest.raises(sealed.CannotDecrypt) as cannot:
                views[3].resolution(asked.id, admins[outsider])
            assert cannot.value.code == "cannot_decrypt"
            with pytest.raises(sealed.CannotDecrypt):
                sealed.open_identity(sealed.resolve_keypair(admins[outsider]), ciphertext)

        # 7. bank-b redeems part of its reserve
        synced(height_of(bank_b.redeem(REDEEMED)))
        supply = views[1].supply()
        assert supply["redeemed"] == before["redeemed"] + REDEEMED
        assert supply["by_org"]["bank-b"]["redeemed"] == REDEEMED, supply
        assert supply["by_org"]["bank-b"]["in_circulation"] == ISSUE_B - REDEEMED
        assert views[2].reserve("bank-b")["balance"] == ISSUE_B - FUND_W4 - FUND_SHOP_B - REDEEMED

        # 8. the invariant: in circulation == the sum of every balance the test knows
        accounts: dict[str, bytes] = {f"dev {n}": k.address for n, k in dev.items()}
        accounts |= {f"admin {n}": k.address for n, k in admins.items()}
        accounts |= {f"reserve {o['name']}": reserve_address(o["name"]) for o in info["orgs"]}
        accounts |= {"agency": agency.address, "shop-a": shop_a.address, "w4": w4.address,
                     "shop-b": shop_b.address}
        accounts |= {f"app {name}": address_of(name) for name in APPS}
        assert len(set(accounts.values())) == len(accounts)
        for index, node in enumerate(nodes):
            snapshot: dict[str, Any] = {}

            def stable(node: NetNode = node, view: CbdcQueries = views[index],
                       snapshot: dict[str, Any] = snapshot) -> bool:
                """Supply and balances that hold still while they are read: the same figures
                before and after, the same balances twice (empty blocks may come between: no
                transaction and no scheduled call moves money any more by now)."""
                first = view.supply()
                balances = {name: _balance(node, a) for name, a in accounts.items()}
                again = {name: _balance(node, a) for name, a in accounts.items()}
                last = view.supply()
                snapshot.update(supply=last, balances=balances)
                figures = [{k: v for k, v in s.items() if k != "height"} for s in (first, last)]
                return figures[0] == figures[1] and balances == again

            wait_for(stable, TIMEOUT, f"a quiet read of node {index}")
            total = sum(snapshot["balances"].values())
            assert snapshot["supply"]["in_circulation"] == total, (index, snapshot)
        assert total == (before["in_circulation"] + ISSUE_A + ISSUE_B - REDEEMED)

        # ... and all four nodes hold the same state at the same height
        common = min(n.height() for n in nodes)
        roots = {n.state_root(common) for n in nodes}
        blocks = {n.block_id(common) for n in nodes}
        assert len(roots) == 1 and len(blocks) == 1, (common, roots, blocks)
