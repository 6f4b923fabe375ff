"""The explorer in real headless Chromium (Debian's ``chromium``, driven by Playwright) against a
real 4-validator network with content on every page (``tests/explorer_world.py``): every page
loads with no console error, the search box finds each kind of thing, new blocks and alerts appear
without a reload, a downloaded proof verifies with our own verifier, a notarised file dropped on
the page is found. Screenshots go to ``build/screenshots/explorer/``. One network for the module.

The network asks every caller who it is (``api_auth`` on): a browser with no session gets the
sign-in panel; the operator's one-time link (from node 0's log) signs in as the node's operator,
who sees the chain's blocks but no party's objects; ``consortia api signin`` gives a browser the
session of an identity — the regulator sees every page, a bank's wallet its own account and "not
visible" on another bank's.

Chromium is installed by ``scripts/bootstrap.sh test``; when it is missing these tests fail and
say so (they never skip)."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.explorer_world import OPEN_NODE, World, large_payment, open_clients, populate, world_network
from tests.procs import NetNode, cli_json, wait_for

from consortia.apps.notary.receipts import verify_receipt
from consortia.client.client import Client, receipt_proof_from_json
from consortia.client.notary import load_receipt
from consortia.client.wallet import Wallet
from consortia.crypto.keyfile import load_key_file
from consortia.ledger.proofs import verify_receipt_proof
from consortia.node.genesis import load_genesis

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots" / "explorer"
WAIT_MS = 15_000


@dataclass
class Explorer:
    world: World
    nodes: list[NetNode]
    clients: list[Client]
    page: Any
    console: list[str]
    downloads: Path

    signed_in_as: str = ""

    @property
    def url(self) -> str:
        return self.world.urls[0]

    def sign_in(self, who: str) -> dict[str, Any]:
        """Sign the browser in as the world's identity ``who`` the way a user does: ``consortia api
        signin`` signs one request with the key and prints the explorer's address with a session."""
        made = cli_json("api", "signin", "--key", self.world.key_files[who], "--node", self.url, "--json")
        assert made["ok"] and made["url"].startswith(f"{self.url}/#token=cs1."), made
        self.console.clear()
        self.page.goto(made["url"])
        self.page.wait_for_function("(a) => (document.querySelector('#who-badge.ok') || {}).title"
                                    "?.includes(a)", arg=made["address"], timeout=WAIT_MS)  # fmt: skip
        self.loaded()
        self.signed_in_as = who
        return dict(made)

    def as_identity(self, who: str) -> None:
        if self.signed_in_as != who:
            self.sign_in(who)

    def open(self, route: str) -> None:
        """Go to a hash route and wait until the page has loaded (the router's loading mark)."""
        self.console.clear()
        self.page.goto(f"{self.url}/#/{route}")
        self.loaded()

    def loaded(self) -> None:
        self.page.wait_for_selector(".page:not([data-loading])", timeout=WAIT_MS)

    def search(self, text: str) -> None:
        self.console.clear()
        self.page.fill("#q", text)
        self.page.press("#q", "Enter")
        self.page.wait_for_function("() => location.hash.length > 2", timeout=WAIT_MS)
        self.loaded()

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def clean(self, what: str) -> None:
        errors = self.page.locator("#page-error").all_text_contents()
        assert not errors, f"{what}: {errors}"
        assert not self.console, f"{what}: console errors {self.console}"


def _playwright() -> Any:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the explorer's browser tests need Debian's chromium "
                    "(scripts/bootstrap.sh test installs it: apt-get install chromium)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: pip install -e '.[test]' (scripts/bootstrap.sh "
                    "test) installs it", pytrace=False)
    return sync_playwright


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Explorer]:
    sync_playwright = _playwright()
    home = tmp_path_factory.mktemp("explorer-net")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with world_network(home) as (info, nodes):
        clients = open_clients(info, nodes)
        try:
            world = populate(home, info, clients)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                                  accept_downloads=True)
                    page = context.new_page()
                    console: list[str] = []
                    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
                    page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
                    yield Explorer(world, nodes, clients, page, console, home / "downloads")
                finally:
                    browser.close()
        finally:
            for client in clients:
                client.close()


def _operator_link(explorer: Explorer) -> str:
    """The one-time sign-in token node 0 wrote to its log at start."""
    log = (explorer.nodes[0].home / "test-node.log").read_text()
    return log.rsplit("#signin=", 1)[1].split()[0]


def test_without_a_session_the_page_asks_to_sign_in(explorer: Explorer) -> None:
    page, w = explorer.page, explorer.world
    explorer.open(f"account/{w.companies['acme']}")
    page.wait_for_selector("#signin", timeout=WAIT_MS)
    assert page.inner_text("#who-badge") == "not signed in"
    assert f"consortia api signin --key YOUR.key --node {explorer.url}" in page.inner_text("#signin")
    assert page.locator("#page-error").count() == 0 and page.locator("#identity").count() == 0
    assert "unauthenticated" not in page.inner_text("#live")  # no stream without a session
    explorer.shot("signin-panel")
    # what the page logs is the 401 of the one read it tried; nothing else, nothing uncaught
    assert not [c for c in explorer.console if "401" not in c], explorer.console
    # a pasted token that is not this node's is refused on the panel, still signed out
    page.fill("#signin-token", "cs1.bm90.aXQ")
    page.click("#signin-form button")
    page.wait_for_function("() => document.querySelector('#signin-error').textContent.length > 0",
                           timeout=WAIT_MS)
    assert "bad_session_token" in page.inner_text("#signin-error")
    assert page.evaluate("sessionStorage.getItem('consortia.session')") is None


def test_the_operators_one_time_link_signs_in_as_the_nodes_staff(explorer: Explorer) -> None:
    page, w = explorer.page, explorer.world
    link = _operator_link(explorer)
    explorer.console.clear()
    page.goto(f"{explorer.url}/#signin={link}")
    page.wait_for_selector("#who-badge.ok", timeout=WAIT_MS)
    explorer.loaded()
    explorer.signed_in_as = "operator"
    assert page.inner_text("#who-badge") == "operator"
    assert page.evaluate("location.hash") == "#/" and link not in page.evaluate("location.href")
    assert link not in page.evaluate("sessionStorage.getItem('consortia.session')")  # exchanged, not kept
    wait_for(lambda: page.locator("#latest-blocks tr").count() >= 10, 10, "the dashboard's blocks")
    wait_for(lambda: page.inner_text("#live") == "live", 10, "the live block stream")
    explorer.shot("operator-dashboard")
    explorer.clean("operator dashboard")
    for route in ("blocks", f"block/{w.payment_height}", "orgs", "gov", f"gov/{w.proposal_id}", "energy",
                  "notary", "health", "trace"):
        explorer.open(route)
        explorer.clean(f"operator {route}")
    # an object of a party: the operator is staff of its node, not a party nor an overseer
    explorer.open(f"tx/{w.payment_tx}")
    assert page.inner_text("#not-visible").startswith("not visible to the node's operator")
    assert page.locator("#page-error").count() == 0
    explorer.shot("operator-not-visible")
    # the link was spent: used again, it is refused and the panel says so
    explorer.console.clear()
    page.evaluate("sessionStorage.clear()")
    page.goto(f"{explorer.url}/#signin={link}")
    page.wait_for_selector("#signin", timeout=WAIT_MS)
    assert "already used" in page.inner_text("#signin")
    explorer.signed_in_as = ""


def test_every_page_loads_with_its_content_and_no_console_error(explorer: Explorer) -> None:
    w, page = explorer.world, explorer.page
    explorer.as_identity("reg")
    acme, beta, gamma = (w.companies[n] for n in ("acme", "beta", "gamma"))
    checks: list[tuple[str, str, Any]] = [
        ("", "dashboard", lambda: page.locator("#latest-blocks tr").count() >= 10
            and page.locator("svg.chart path.line").count() >= 3 and "4" in page.inner_text("#cards")),
        ("blocks", "blocks", lambda: page.locator("table.grid tbody tr").count() >= 20),
        (f"block/{w.payment_height}", "block", lambda: w.payment_tx in page.inner_html("#block-txs")),
        (f"tx/{w.payment_tx}", "transaction", lambda: page.inner_text("#tx-call") == "currency.transfer"
            and "120,000" in page.inner_text("#tx-events") and "Transfer" in page.inner_text("#tx-events")),
        (f"account/{acme}", "account", lambda: "corp-x" in page.inner_text("#identity")
            and page.locator(f'#history a[href="#/account/{beta}"]').count() >= 2),
        (f"account/{w.wallet}", "wallet", lambda: "wallet" in page.inner_text("#identity")
            and "bank-a" in page.inner_text("#wallet") and "50,000" in page.inner_text("#account-balance")),
        ("orgs", "organisations", lambda: page.locator("#orgs tbody tr").count() == 7),
        ("org/bank-a", "organisation", lambda: "BEGIN CERTIFICATE" in page.inner_text("pre")),
        ("gov", "proposals", lambda: "max_block_txs = 4000" in page.inner_text("#proposals")),
        (f"gov/{w.proposal_id}", "proposal", lambda: page.locator("#votes tbody tr").count() == 2),
        ("alerts", "alerts", lambda: page.inner_text("#alerts-live") == "live"),
        ("apps", "applications", lambda: page.locator("a.card.app").count() == 7),
        ("currency", "currency", lambda: page.locator("#reserves tbody tr").count() >= 1
            and "bank-a" in page.inner_text("#reserves")),
        ("bills", "bills", lambda: page.locator("#bills tbody tr").count() == 1),
        (f"bills/{w.bill_id}", "bill", lambda: [a.strip() for a in page.locator(
            "#bill-timeline .badge").all_text_contents()] == ["issue", "accept", "endorse"]),
        ("scf", "payables", lambda: page.locator("#payables tbody tr").count() == 1),
        (f"scf/payable/{w.payable_id}", "payable", lambda: page.locator(
            "#payable-tree > li > ul > li > ul > li").count() == 1),  # three tiers: part 1 > 2 > 3
        ("energy", "energy", lambda: "2,400,000" in page.inner_text(".page")),
        (f"energy/meter/{w.meter}", "meter", lambda: page.locator(
            "#meter-certificates tbody tr").count() == 2 and gamma in page.inner_html("#meter-certificates")),
        (f"energy/cert/{w.certificate}", "certificate", lambda: w.meter in page.inner_text("#certificate")),
        ("notary", "notary", lambda: page.locator("#dropzone").count() == 1),
        (f"notary/root/{w.notary_root}", "notary root", lambda: gamma in page.inner_html(".page")),
        ("health", "health", lambda: "records stored here" in page.inner_text("#health-node")),
        (f"health/record/{w.record}", "health record", lambda: w.patient in page.inner_html("#health-record")
            and "hosp-a" in page.inner_text("#health-record")
            and [b.strip() for b in page.locator("#health-log .badge").all_text_contents()]
            == ["stored", "granted", "break-glass"]
            and "second opinion" in page.inner_text("#health-grants")
            and beta in page.inner_html("#health-grants") and "consent" in page.inner_text("#health-grants")
            and "Visit" not in page.inner_text(".page")),
        (f"health/patient/{w.patient}", "patient", lambda: w.record in page.inner_html("#patient-records")
            and "unconscious in the ED" in page.inner_text("#patient-alerts")),
        (f"account/{w.patient}", "patient account", lambda: page.locator(
            f'#account-health a[href="#/health/patient/{w.patient}"]').count() == 1
            and "produced it" in page.inner_text("#account-items")),  # the batch and the bracket
        (f"account/{beta}", "holder account", lambda: page.locator(
            f'#account-items a[href="#/trace/item/{quote(w.item, safe="")}"]').count() == 1),
        ("trace", "traceability", lambda: "EPC URI" in page.inner_text(".page")),
        (f"trace/item/{quote(w.item, safe='')}", "traced item", lambda: "bracket" in page.inner_text(
            "#trace-item") and beta in page.inner_html("#trace-item")  # the holder after the move
            and page.locator(f'#trace-up li[data-item="{w.batch}"]').count() == 1
            and acme in page.inner_html("#trace-custody") and beta in page.inner_html("#trace-custody")
            and [b.strip() for b in page.locator("#trace-events .badge").all_text_contents()]
            == ["Registered", "Transformed", "HandoverOffered", "Received"]),
        (f"trace/item/{quote(w.batch, safe='')}", "traced batch", lambda: page.locator(
            f'#trace-down li[data-item="{w.item}"]').count() == 1
            and "consumed" in page.inner_text("#trace-item")),
    ]
    for route, name, content in checks:
        explorer.open(route)
        wait_for(content, 10, f"the {name} page's content")
        explorer.shot(name.replace(" ", "-"))
        explorer.clean(name)


def _search_lands(explorer: Explorer, text: str, route: str) -> None:
    explorer.search(text)
    wait_for(lambda: explorer.page.evaluate("location.hash") == f"#/{route}", 10, f"{text!r} -> #/{route}")
    explorer.clean(f"search {text!r}")


def test_search_finds_each_kind_of_thing(explorer: Explorer) -> None:
    w, page = explorer.world, explorer.page
    explorer.as_identity("reg")
    explorer.open("")
    _search_lands(explorer, w.payment_tx, f"tx/{w.payment_tx}")
    _search_lands(explorer, w.companies["beta"], f"account/{w.companies['beta']}")
    _search_lands(explorer, w.companies["beta"].upper().replace("0X", "0x"), f"account/{w.companies['beta']}")
    block_id = explorer.clients[0].get(f"/v1/blocks/{w.payment_height}")["id"]
    _search_lands(explorer, block_id, f"block/{w.payment_height}")
    _search_lands(explorer, f"bill {w.bill_id}", f"bills/{w.bill_id}")
    _search_lands(explorer, f"payable:{w.payable_id}", f"scf/payable/{w.payable_id}")
    _search_lands(explorer, "part 2", f"scf/payable/{w.payable_id}/part/2")
    assert page.get_attribute("#part-2", "class") == "picked"
    _search_lands(explorer, f"cert {w.certificate}", f"energy/cert/{w.certificate}")
    _search_lands(explorer, f"proposal {w.proposal_id}", f"gov/{w.proposal_id}")
    _search_lands(explorer, "bank-a", "org/bank-a")
    _search_lands(explorer, w.notary_root, f"notary/root/{w.notary_root}")
    invoice = explorer.clients[0].get(f"/v1/scf/payables/{w.payable_id}")["payable"]["invoices"][0]
    _search_lands(explorer, invoice, f"scf/invoice/{invoice}")
    assert w.companies["acme"] in page.inner_html(".page")  # the buyer, as registered
    _search_lands(explorer, w.record, f"health/record/{w.record}")
    # an item by its EPC URI (made canonical by the node) or its canonical Digital Link
    _search_lands(explorer, "urn:epc:id:sgtin:0614141.107346.BR-1", f"trace/item/{quote(w.item, safe='')}")
    _search_lands(explorer, w.batch, f"trace/item/{quote(w.batch, safe='')}")

    # a bare number is a height and every object with that id: the results list them all
    explorer.search("1")
    links = page.locator("#search-results a")
    targets = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert {"#/block/1", "#/gov/1", "#/bills/1", "#/scf/payable/1", "#/energy/cert/1"} <= targets, targets
    explorer.shot("search-number")
    explorer.clean("search 1")
    # a meter's address is an account and a meter
    explorer.search(w.meter)
    assert page.locator(f'#search-results a[href="#/energy/meter/{w.meter}"]').count() == 1
    # what the box cannot read is said on the page (a typed 400, which Chromium logs as a failed load)
    explorer.search("0x1234")
    assert "neither an address (40) nor a hash (64)" in page.inner_text("#search-error")
    explorer.search("9999999")
    assert "nothing on this chain matches" in page.inner_text("#search-results")


def test_new_blocks_and_their_events_appear_without_a_reload(explorer: Explorer) -> None:
    page, w = explorer.page, explorer.world
    explorer.as_identity("reg")
    explorer.open("")
    page.evaluate("window.__sameDocument = true")
    first = int(page.get_attribute("#latest-blocks tr:first-child", "data-height"))
    points = int(page.get_attribute("svg.chart", "data-points"))
    key = load_key_file(Path(w.key_files["gamma"]))
    paid = Wallet(key, explorer.clients[2]).transfer(w.companies["beta"], 777)
    tx = "0x" + paid.tx_hash.hex()
    page.wait_for_selector(f'#live-events a[href="#/tx/{tx}"]', timeout=WAIT_MS)
    page.wait_for_selector(f'#latest-blocks tr[data-height="{paid.height}"]', timeout=WAIT_MS)
    latest = int(page.get_attribute("#latest-blocks tr:first-child", "data-height"))
    assert latest > first
    wait_for(lambda: int(page.inner_text("#dash-height").replace(",", "")) >= paid.height, 10,
             "the status card at the new height")  # refreshed after the block, by its own read
    assert int(page.get_attribute("svg.chart", "data-points")) >= min(points + 1, 100)
    assert page.evaluate("window.__sameDocument") is True  # the same document: no reload
    assert page.inner_text("#live") == "live"
    explorer.shot("dashboard-live")
    explorer.clean("dashboard live")


def test_a_downloaded_proof_verifies_with_our_verifier(explorer: Explorer) -> None:
    page, w = explorer.page, explorer.world
    explorer.as_identity("reg")
    explorer.open(f"tx/{w.payment_tx}")
    with page.expect_download(timeout=WAIT_MS) as info:
        page.click("#download-proof")
    saved = explorer.downloads / info.value.suggested_filename
    info.value.save_as(str(saved))
    assert saved.name == f"receipt-{w.payment_tx[2:14]}.json"
    proof = receipt_proof_from_json(saved.read_bytes())
    verified = verify_receipt_proof(proof, load_genesis(Path(w.genesis_file)))
    assert "0x" + verified.tx_hash.hex() == w.payment_tx and verified.status == "ok"
    assert verified.height == w.payment_height
    explorer.clean("proof download")


def test_a_notarised_file_dropped_on_the_page_is_found(explorer: Explorer) -> None:
    page, w = explorer.page, explorer.world
    explorer.as_identity("reg")
    document = Path(w.notarised_file)
    digest = "0x" + hashlib.sha256(document.read_bytes()).hexdigest()
    explorer.open("notary")
    transfer = page.evaluate_handle(
        """([name, bytes]) => { const dt = new DataTransfer();
             dt.items.add(new File([new Uint8Array(bytes)], name)); return dt; }""",
        [document.name, list(document.read_bytes())])
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    page.wait_for_selector("#notary-verdict", timeout=WAIT_MS)
    assert page.inner_text("#notary-digest") == digest
    assert page.inner_text("#notary-verdict").startswith("stamped at height")
    with page.expect_download(timeout=WAIT_MS) as info:
        page.click("#download-notary-receipt")
    saved = explorer.downloads / info.value.suggested_filename
    info.value.save_as(str(saved))
    stamp = verify_receipt(load_receipt(saved), load_genesis(Path(w.genesis_file)))
    assert "0x" + stamp.root.hex() == w.notary_root and "0x" + stamp.document.hex() == digest
    assert "0x" + stamp.stamper.hex() == w.companies["gamma"]
    explorer.shot("notary-found")
    explorer.clean("notary drop")

    # a file never stamped: said so on the page (the 404 lookup is the one console line)
    page.set_input_files("#notary-file", files=[{"name": "other.txt", "mimeType": "text/plain",
                                                 "buffer": b"never stamped\n"}])
    page.wait_for_function("() => document.querySelector('#notary-verdict')?.textContent.startsWith('not')",
                           timeout=WAIT_MS)
    # the built-in SHA-256 (pages reached over plain http on a LAN) agrees with WebCrypto and hashlib
    for size in (0, 1, 55, 56, 64, 1000, 70_000):
        data = bytes(i * 7 % 251 for i in range(size))
        got = page.evaluate(
            """async (bytes) => { const m = await import('/explorer/sha256.js');
                 const a = m.hex(m.sha256Plain(new Uint8Array(bytes)));
                 const b = m.hex(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes)));
                 return [a, b]; }""", list(data))
        assert got == ["0x" + hashlib.sha256(data).hexdigest()] * 2, size


def test_a_regulator_alert_appears_live(explorer: Explorer) -> None:
    page, w = explorer.page, explorer.world
    explorer.as_identity("reg")
    explorer.open("alerts")
    page.wait_for_function("() => document.querySelector('#alerts-live').textContent === 'live'",
                           timeout=WAIT_MS)
    page.evaluate("window.__sameDocument = true")
    tx = large_payment(w, explorer.clients)
    page.wait_for_selector(f'#alerts tr.new a[href="#/tx/{tx}"]', timeout=WAIT_MS)
    row = page.inner_text(f'#alerts tr.new:has(a[href="#/tx/{tx}"])')
    assert "large_amount" in row and re.search(r"2,000,001", row), row
    assert page.evaluate("window.__sameDocument") is True
    explorer.shot("alerts-live")
    explorer.clean("alerts live")
    started = time.monotonic()
    explorer.open("alerts")  # stored alerts are listed when the page opens
    assert page.locator(f'#alerts a[href="#/tx/{tx}"]').count() == 1, time.monotonic() - started


def test_a_bank_member_signed_in_with_its_key_sees_its_own_account_only(explorer: Explorer) -> None:
    page, w = explorer.page, explorer.world
    made = explorer.sign_in("erin")  # a wallet of bank-a
    assert made["address"] == w.wallet and made["org"] == "bank-a" and made["role"] == "wallet"
    assert page.evaluate("location.hash") == "#/" and made["token"] not in page.evaluate("location.href")
    assert page.inner_text("#who-badge").endswith("· bank-a · wallet")
    wait_for(lambda: page.inner_text("#live") == "live: own events", 10, "the member's own event stream")
    explorer.open(f"account/{w.wallet}")
    wait_for(lambda: "50,000" in page.inner_text("#account-balance"), 10, "the wallet's own balance")
    assert "bank-a" in page.inner_text("#wallet") and page.locator("#history tr").count() >= 1
    explorer.shot("member-own-account")
    explorer.clean("a member's own account")
    others = (f"account/{w.other_bank_admin}", f"account/{w.companies['acme']}", f"tx/{w.payment_tx}", "")
    for route in others:
        explorer.open(route)
        said = page.inner_text("#not-visible")
        assert said.startswith(f"not visible to {w.wallet[:10]}"), (route, said)
        assert "(wallet of bank-a)" in said, (route, said)
        assert page.locator("#page-error").count() == 0
        assert not [c for c in explorer.console if "uncaught" in c], explorer.console
    explorer.shot("member-not-visible")
    # the search box takes the member's own address without the chain-wide search (staff only)
    explorer.search(w.wallet)
    wait_for(lambda: page.evaluate("location.hash") == f"#/account/{w.wallet}", 10, "its own account")


def test_signing_out_forgets_the_session(explorer: Explorer) -> None:
    page = explorer.page
    explorer.as_identity("erin")
    page.click("#sign-out")
    page.wait_for_selector("#signin", timeout=WAIT_MS)
    explorer.signed_in_as = ""
    assert page.inner_text("#who-badge") == "not signed in"
    assert page.evaluate("sessionStorage.getItem('consortia.session')") is None


def test_the_search_route_and_the_served_files(explorer: Explorer) -> None:
    from consortia.client.request_signing import SignedRequests

    w = explorer.world
    chain_id = explorer.clients[0].status()["chain_id"]
    regulator = SignedRequests(load_key_file(Path(w.key_files["reg"])), chain_id)
    http = httpx.Client(base_url=w.urls[1], timeout=10, auth=regulator)  # another node answers the same

    def search(q: str) -> dict[str, Any]:
        return dict(http.get("/v1/search", params={"q": q}).json())

    try:
        kinds = {m["kind"] for m in search("1")["matches"]}
        assert {"block", "proposal", "bill", "payable", "part", "certificate"} <= kinds, kinds
        found = search(w.meter)
        assert [m["kind"] for m in found["matches"]] == ["account", "meter"] and found["form"] == "address"
        assert search("BANK-A")["matches"][0]["id"] == "bank-a"
        assert search("0x" + "00" * 32)["matches"] == []
        assert [m["kind"] for m in search(w.record)["matches"]] == ["record"]
        assert search("urn:epc:class:lgtin:0614141.107346.COIL-7")["matches"][0]["id"] == w.batch
        assert search("88.1.2/nothing")["matches"] == []
        assert http.get("/v1/search", params={"q": "urn:epc:id:sgtin:1"}).json()["code"] == "bad_search"
        events = http.get("/v1/explorer/trace/events", params={"id": w.item}).json()["events"]
        assert [e["name"] for e in events] == ["Registered", "Transformed", "HandoverOffered", "Received"]
        assert http.get("/v1/explorer/trace/events", params={"id": "88.1.2/none"}).status_code == 404
        held = http.get(f"/v1/explorer/trace/accounts/{w.companies['beta']}").json()
        assert [(i["item"], i["holds"], i["produced"]) for i in held["items"]] == [(w.item, True, False)]
        made = http.get(f"/v1/explorer/trace/accounts/{w.patient}").json()["items"]
        assert {i["item"]: i["status"] for i in made} == {w.batch: "consumed", w.item: "active"}
        me = http.get("/v1/auth/whoami").json()
        assert me["oversees"] and me["org"] == "reg" and me["api_access"] == "signed" and not me["operator"]
        assert httpx.get(w.urls[1] + "/v1/auth/whoami").status_code == 401  # unsigned
        refused = http.get("/v1/search", params={"q": "widget 4"})
        assert refused.status_code == 400 and refused.json()["code"] == "bad_search", refused.text
        who = http.get(f"/v1/explorer/accounts/{w.wallet}").json()
        assert who["identity"]["role"] == "wallet" and who["admin_of"] == [] and who["meter"] is False
        assert http.get(f"/v1/explorer/accounts/{w.meter}").json() == {
            "address": w.meter, "identity": None, "admin_of": [], "meter": True}
        assert http.get("/v1/explorer/accounts/0x12").json()["code"] == "bad_address"
        page = http.get("/")
        assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
        script = http.get("/explorer/explorer.js")
        assert script.headers["content-type"].startswith("text/javascript") and "import" in script.text
        for name in ("missing.js", "explorer.html", "__init__.py"):  # only the listed assets
            gone = http.get(f"/explorer/{name}")
            assert gone.status_code == 404 and gone.json()["code"] == "not_found", name
        assert http.get("/explorer/..%2Fapp.py").status_code == 404  # no route: nothing served
    finally:
        http.close()


def test_a_node_with_an_open_api_needs_no_sign_in(explorer: Explorer) -> None:
    """Last: the tab leaves node 0's origin (its session stays in node 0's sessionStorage)."""
    page, w = explorer.page, explorer.world
    url = w.urls[OPEN_NODE]
    said = cli_json("api", "signin", "--key", w.key_files["erin"], "--node", url, "--json")
    assert said == {"ok": True, "api_access": "open", "url": url + "/"}, said
    # (a key no identity holds: a typed 401 and no session — the CLI walk of test_cli_piped_output)
    explorer.console.clear()
    page.goto(f"{url}/#/account/{w.wallet}")
    page.wait_for_selector(".page:not([data-loading]) #identity", timeout=WAIT_MS)
    assert page.inner_text("#who").strip() == "open API" and page.locator("#signin").count() == 0
    wait_for(lambda: page.inner_text("#live") == "live", 10, "the open node's block stream")
    explorer.shot("open-api")
    explorer.clean("an open node's account page")
    # a sign-in link on an open node: nothing to sign in to (the node's 404), the page just opens
    page.goto(f"{url}/#signin=cs1.eA.eA")
    page.wait_for_selector(".page:not([data-loading]) #latest-blocks tr", timeout=WAIT_MS)
    assert page.evaluate("location.hash") == "#/" and page.locator("#signin").count() == 0
