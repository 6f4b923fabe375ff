"""The API's edge on a real node (issue 14): a chain with organisations, ``api_auth`` on, the API
served over HTTPS with the node's organisation-issued certificate, small budgets in node.json.

- over HTTPS the SDK (``ca=`` the home's CA bundle) and the CLI (``--ca``) read; without the CA
  the SDK fails typed; plain HTTP to the TLS port fails at once, and the node serves on;
- one identity past its read budget gets 429 ``rate_limited`` with ``Retry-After`` while
  another identity is served, and after the wait it is served again;
- an identity holds at most ``streams_per_caller`` event streams; the next is 429
  ``too_many_streams``; closing one releases its slot;
- a member's ``/v1/events`` carries its own transfer's events and not another bank's; its
  bank's admin (staff) sees both.

One validator, one module network."""

from __future__ import annotations

import contextlib
import json
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from cryptography import x509
from tests.procs import CLI, NetNode, cli, running_network

from consortia.client.client import Client
from consortia.client.permissioned import PermWallet, prepare_identity
from consortia.client.request_signing import SignedRequests
from consortia.client.tls_trust import trust
from consortia.client.wallet import Wallet
from consortia.crypto.address import format_address
from consortia.crypto.keyfile import load_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import ConnectionFailed, ConsortiaError, RateLimited, TooManyStreams, error_from_dict
from consortia.node.config import ApiEdgeConfig, RateConfig, load_config, write_config
from consortia.p2p.certs import issue_node_cert

ORGS = "bank-a:bank,bank-b:bank,reg:regulator"
TIMEOUT = 30.0
READS = RateConfig(per_second=5, burst=30)
pytestmark = pytest.mark.slow


@dataclass
class Net:
    node: NetNode
    url: str
    ca: Path
    root: Path
    keys: dict[str, KeyPair] = field(default_factory=dict)

    def client(self, who: str | None) -> Client:
        return Client(self.url, timeout=TIMEOUT, key=None if who is None else self.keys[who], ca=self.ca)

    @contextlib.contextmanager
    def stream(self, who: str) -> Iterator[httpx.Response]:
        """``who``'s signed ``/v1/events``, open until the block ends; a refusal raised typed."""
        with self.client(None) as client:
            chain_id = client.status()["chain_id"]
        endless = httpx.Timeout(10.0, read=None)
        with httpx.Client(base_url=self.url, verify=trust(self.ca), timeout=endless) as http, \
                http.stream("GET", "/v1/events", auth=SignedRequests(self.keys[who], chain_id)) as response:
            if response.status_code >= 400:
                response.read()
                raise error_from_dict(response.json())
            yield response


def _start_tls(node: NetNode, url: str, ca: Path) -> dict[str, Any]:
    log = open(node.home / "test-node.log", "a")  # noqa: SIM115
    node.proc = subprocess.Popen([*CLI, "node", "start", "--home", str(node.home), "--api-tls", "--json"],
                                 stdout=subprocess.PIPE, stderr=log, text=True,
                                 stdin=subprocess.DEVNULL)  # fmt: skip
    assert node.proc.stdout is not None
    ready = json.loads(node.proc.stdout.readline())
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            with Client(url, timeout=2, ca=ca) as client:
                if client.status()["height"] >= 1:
                    return dict(ready)
        except ConsortiaError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    root = tmp_path_factory.mktemp("edge-net")
    with running_network(root / "net", "--orgs", ORGS, validators=1, start=False) as (info, nodes):
        node = nodes[0]
        edge = ApiEdgeConfig(reads=READS, streams_per_caller=2)
        write_config(node.home, msgspec.structs.replace(load_config(node.home), api_auth=True, api_edge=edge))
        url = node.url.replace("http://", "https://")
        ca = node.home / "tls" / "ca-bundle.pem"
        assert _start_tls(node, url, ca)["api"] == url
        net = Net(node, url, ca, Path(info["home"]))
        net.keys = {f"{o['name']}-admin": load_key_file(Path(o["admin_key"])) for o in info["orgs"]}
        for k in info["keys"]:  # alice, bob, carol, dave: members of bank-a
            net.keys[k["name"]] = load_key_file(Path(k["file"]))
        bank_b = Path(info["home"]) / "orgs" / "bank-b" / "ca"
        ca_cert = next(bank_b.glob("*-ca.crt"))
        clerk = prepare_identity("clerk of bank-b", "ed25519", ca_cert.read_bytes(),
                                 ca_cert.with_suffix(".key").read_bytes())  # fmt: skip
        with net.client("bank-b-admin") as client:
            admin = PermWallet(Wallet(net.keys["bank-b-admin"], client))
            assert admin.enroll(clerk.key.address, 1, clerk.pii_hash, clerk.certificate).status == "ok"
        net.keys["clerk"] = clerk.key
        yield net


def test_https_serves_the_sdk_and_the_cli_and_plain_http_fails_cleanly(net: Net) -> None:
    with net.client("alice") as client:
        assert client.status()["api_access"] == "signed"
        mine = format_address(net.keys["alice"].address)
        assert client.get(f"/v1/accounts/{mine}")["address"] == mine
    with Client(net.url, timeout=TIMEOUT) as untrusting, pytest.raises(ConnectionFailed) as refused:
        untrusting.status()  # the organisation's CA is no public CA
    assert "certificate verify failed" in refused.value.message.lower(), refused.value.message
    proc = cli("--ca", str(net.ca), "status", "--node", net.url, "--json")
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert json.loads(proc.stdout.strip().splitlines()[-1])["chain_id"]
    plain = net.url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError) as failed:
        httpx.get(plain + "/v1/status", timeout=TIMEOUT)
    assert not isinstance(failed.value, httpx.TimeoutException), "plain HTTP is refused, not left hanging"
    with net.client(None) as client:
        assert client.status()["height"] >= 1  # and the node serves on


def test_past_its_read_budget_one_identity_waits_and_another_is_served(net: Net) -> None:
    path = "/v1/accounts/" + format_address(net.keys["dave"].address)
    refused: RateLimited | None = None
    served = 0
    with net.client("dave") as client:
        for _ in range(READS.burst * 5):
            try:
                client.get(path)
                served += 1
            except RateLimited as exc:
                refused = exc
                break
    assert refused is not None, f"{served} reads in a burst, none refused"
    assert served >= READS.burst - 1
    assert refused.details["budget"] == "reads" and refused.details["retry_after_s"] >= 1
    with net.client("bob") as client:  # another identity, the same source address: served
        assert client.get("/v1/accounts/" + format_address(net.keys["bob"].address))["exists"] is not None
    chain_id = net.client(None).status()["chain_id"]
    from consortia.client.request_signing import SignedRequests

    with httpx.Client(base_url=net.url, verify=str(net.ca), timeout=TIMEOUT) as http:
        auth = SignedRequests(net.keys["carol"], chain_id)
        carol = "/v1/accounts/" + format_address(net.keys["carol"].address)
        last = http.get(carol, auth=auth)
        for _ in range(READS.burst * 5):
            if last.status_code != 200:
                break
            last = http.get(carol, auth=auth)
        assert last.status_code == 429 and last.json()["code"] == "rate_limited"
        wait = int(last.headers["retry-after"])
        assert wait >= 1
        time.sleep(wait)
        again = http.get(carol, auth=auth)
        assert again.status_code == 200
        metrics = http.get("/metrics").text  # the operator sees the refusals
        assert 'consortia_api_refused_total{budget="reads",reason="rate_limited"}' in metrics


def test_streams_per_identity_are_bounded_and_released_when_the_client_goes(net: Net) -> None:
    with contextlib.ExitStack() as held:
        first = held.enter_context(net.stream("bob"))
        held.enter_context(net.stream("bob"))
        with pytest.raises(TooManyStreams), net.stream("bob"):
            pass
        with net.stream("alice") as theirs:
            assert theirs.status_code == 200  # another identity has its own slots
        first.close()  # the client goes away: its slot comes back
        deadline = time.monotonic() + 10
        while True:
            try:
                with net.stream("bob") as again:
                    assert again.status_code == 200
                    break
            except TooManyStreams:
                assert time.monotonic() < deadline, "the closed stream's slot was never released"
                time.sleep(0.2)


def test_a_renewed_certificate_is_served_without_a_restart(net: Net, tmp_path: Path) -> None:
    """The organisation's CA certifies the node's key again (what ``node rotate-tls`` does for a
    node home of ``node init``); the API presents the new certificate from its next handshake."""
    host, port = "127.0.0.1", int(net.url.rsplit(":", 1)[1])
    before = x509.load_pem_x509_certificate(ssl.get_server_certificate((host, port)).encode())
    tls = net.node.home / "tls"
    ca = net.root / "orgs" / "bank-a" / "ca"
    time.sleep(0.05)  # a later modification time than the first certificate's
    issue_node_cert(ca / "bank-a-ca.crt", ca / "bank-a-ca.key", 0, "node", tls, key_path=tls / "node.key")
    renewed = x509.load_pem_x509_certificate((tls / "node.crt").read_bytes())
    assert renewed.serial_number != before.serial_number
    deadline = time.monotonic() + 15
    while x509.load_pem_x509_certificate(
            ssl.get_server_certificate((host, port)).encode()).serial_number != renewed.serial_number:
        assert time.monotonic() < deadline, "the API never presented the renewed certificate"
        time.sleep(0.3)
    with net.client("alice") as client:  # and it chains to the organisation's CA as before
        assert client.status()["height"] >= 1


class Watcher:
    """Reads one identity's event stream on a thread; ``names(tx)``: the events of ``tx`` seen."""

    def __init__(self, net: Net, who: str) -> None:
        self.net, self.who = net, who
        self.blocks: list[dict[str, Any]] = []
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.opened.wait(TIMEOUT)

    def _run(self) -> None:
        with contextlib.suppress(ConsortiaError, httpx.HTTPError), self.net.stream(self.who) as r:
            self.response = r
            self.opened.set()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    self.blocks.append(json.loads(line[5:]))

    def events_of(self, tx_hash: bytes) -> list[dict[str, Any]]:
        return [e for b in list(self.blocks) for e in b["events"] if e["tx_hash"] == "0x" + tx_hash.hex()]

    def close(self) -> None:
        self.response.close()


def test_a_members_stream_carries_its_own_events_and_not_another_banks(net: Net) -> None:
    watchers = {who: Watcher(net, who) for who in ("alice", "clerk", "bank-a-admin")}
    try:
        with net.client("alice") as client:
            inside = Wallet(net.keys["alice"], client).transfer(net.keys["bob"].address, 5)
        with net.client("carol") as client:
            across = Wallet(net.keys["carol"], client).transfer(net.keys["clerk"].address, 7)
        assert inside.tx_hash and across.tx_hash
        deadline = time.monotonic() + TIMEOUT
        while not (watchers["alice"].events_of(inside.tx_hash) and watchers["clerk"].events_of(across.tx_hash)
                   and watchers["bank-a-admin"].events_of(across.tx_hash)):  # fmt: skip
            assert time.monotonic() < deadline, "the streams did not carry the transfers"
            time.sleep(0.1)
        time.sleep(1.0)  # a block or two more: what should not arrive has had its chance
        assert watchers["alice"].events_of(across.tx_hash) == []  # carol to bank-b: not alice's
        assert watchers["clerk"].events_of(inside.tx_hash) == []  # within bank-a: not bank-b's
        assert watchers["bank-a-admin"].events_of(inside.tx_hash)  # staff: everything
        for event in watchers["clerk"].events_of(across.tx_hash):
            assert event["data"].find(net.keys["clerk"].address.hex()) >= 0
        assert all(b["events"] for b in watchers["clerk"].blocks), "a member gets no empty blocks"
    finally:
        for watcher in watchers.values():
            watcher.close()
