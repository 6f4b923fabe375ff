"""Supervisable privacy and lawful erasure on four real validators with organisations and the
API authenticating (issue 14): an invoice registered with its contents sealed (CLI) is readable
by its seller, its buyer and the regulator — and by no other organisation's admin or member
(a 403) nor by a party's organisation admin (the ciphertext at most, without an envelope); the
ciphertext lives on the parties' organisations' nodes only; after the regulator's erasure, a scan
of every file in every node's home finds neither the plaintext, nor the data key, nor the
ciphertext, and what stays on chain is the invoice's hash, the useless reference and the
erasure's record. One network for the module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import msgspec
import pytest
from tests.procs import NetNode, cli, running_network, wait_for

from consortia.api.openapi import openapi_spec
from consortia.apps.privacy import sdk as privacy
from consortia.apps.privacy.store import Kept
from consortia.client.client import Client
from consortia.client.permissioned import NewIdentity, PermWallet, prepare_identity
from consortia.client.privacy import PrivacyClient, PrivacyWallet
from consortia.client.request_signing import SignedRequests
from consortia.client.scf import ScfQueries
from consortia.client.wallet import Wallet
from consortia.codec import encode
from consortia.crypto import envelope as env
from consortia.crypto.keyfile import load_key_file, save_key_file
from consortia.crypto.keys import KeyPair
from consortia.node.config import load_config, write_config

ORGS = "bank-a:bank,core:enterprise,supplier:enterprise,reg:regulator"
# validators round-robin over the non-regulators: node0 bank-a, node1 core, node2 supplier, node3 bank-a
BANK, CORE, SUPPLIER = 0, 1, 2
LINE = "10 hot-rolled steel coils, grade Q235B, at 98,750.00 each"
NOTE = "Deliver to dock 7; contact Zhang Wei, +86 138 0013 8000"
TIMEOUT = 30.0
pytestmark = pytest.mark.slow


@dataclass
class Net:
    nodes: list[NetNode]
    root: Path
    keys: dict[str, KeyPair]
    files: dict[str, Path]

    def client(self, node: int, who: str | None) -> Client:
        return Client(self.nodes[node].url, timeout=TIMEOUT, key=None if who is None else self.keys[who])

    def cli(self, *args: str, node: int) -> dict[str, Any]:
        proc = cli(*args, "--node", self.nodes[node].url, "--json", timeout=90)
        lines = proc.stdout.strip().splitlines()
        assert proc.returncode == 0 and lines, f"{args}: rc {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return dict(json.loads(lines[-1]))


def _identity(org_dir: Path, name: str) -> NewIdentity:
    ca = next((org_dir / "ca").glob("*-ca.crt"))
    return prepare_identity(name, "ed25519", ca.read_bytes(), ca.with_suffix(".key").read_bytes())


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    root = tmp_path_factory.mktemp("privacy-net")
    with running_network(root / "net", "--orgs", ORGS, start=False) as (info, nodes):
        home = Path(info["home"])
        for node in nodes:
            write_config(node.home, msgspec.structs.replace(load_config(node.home), api_auth=True))
            node.start()
        wait_for(lambda: min(n.height() for n in nodes) >= 1, TIMEOUT, "the first block")
        keys = {f"{o['name']}-admin": load_key_file(Path(o["admin_key"])) for o in info["orgs"]}
        keys["bank-member"] = load_key_file(Path(next(k["file"] for k in info["keys"] if k["name"] == "bob")))
        files: dict[str, Path] = {}
        for who, org in (("seller", "supplier"), ("buyer", "core")):
            new = _identity(home / "orgs" / org, f"{who} clerk of {org}")
            files[who] = root / f"{who}.key"
            save_key_file(files[who], new.key, None)
            keys[who] = new.key
            with Client(nodes[0].url, timeout=TIMEOUT, key=keys[f"{org}-admin"]) as client:
                admin = PermWallet(Wallet(keys[f"{org}-admin"], client))
                assert admin.enroll(new.key.address, 1, new.pii_hash, new.certificate).status == "ok"
        files["regulator"] = Path(next(o["admin_key"] for o in info["orgs"] if o["name"] == "reg"))
        keys["regulator"] = keys["reg-admin"]
        net = Net(nodes, root, keys, files)
        for who in ("seller", "buyer"):
            with net.client(0, who) as client:
                assert PrivacyWallet(Wallet(keys[who], client)).register_key()["registered"]
        assert net.cli("privacy", "set-supervisor", "--key", str(files["regulator"]), node=0)["supervisor"]
        for org, node in (("core", CORE), ("supplier", SUPPLIER)):
            with net.client(0, f"{org}-admin") as client:
                PrivacyWallet(Wallet(keys[f"{org}-admin"], client)).set_store(nodes[node].url)
        yield net


def _status(net: Net, node: int, who: str, path: str, body: bytes | None = None) -> int:
    """The HTTP status a signed request of ``who`` gets (the SDK's own signer)."""
    chain_id = httpx.get(net.nodes[node].url + "/v1/status", timeout=10).json()["chain_id"]
    auth = SignedRequests(net.keys[who], chain_id)
    with httpx.Client(base_url=net.nodes[node].url, timeout=TIMEOUT) as http:
        if body is None:
            return http.get(path, auth=auth).status_code
        return http.post(path, content=body, auth=auth,
                         headers={"content-type": "application/octet-stream"}).status_code


def _home_bytes(node: NetNode) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in sorted(node.home.rglob("*")) if p.is_file()]


def _found(net: Net, needle: bytes) -> list[str]:
    return [f"{node.home.name}:{p.relative_to(node.home)}" for node in net.nodes
            for p, raw in _home_bytes(node) if needle in raw]


def keeps_schema(method: str, path: str, body: Any) -> None:
    """``body`` is valid against the route's 200 schema in /openapi.json (issue 16)."""
    spec = openapi_spec()
    schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(body)


def test_sealed_invoice_read_by_parties_and_regulator_only_then_erased(net: Net) -> None:
    seller, buyer = net.keys["seller"].address, net.keys["buyer"].address
    out = net.cli("invoice", "register", "--buyer", "0x" + buyer.hex(), "--number", "INV-2025-0042",
                  "--amount", "987500", "--date", "2025-03-01", "--line", LINE, "--note", NOTE,
                  "--key", str(net.files["seller"]), node=SUPPLIER)
    digest, ref = bytes.fromhex(out["hash"][2:]), bytes.fromhex(out["content"][2:])
    assert out["stores"] == [net.nodes[SUPPLIER].url, net.nodes[CORE].url] and out["no_store"] == ["reg"]

    # the seller, the buyer (CLI, on its own node) and the regulator open it, checked against the hash
    shown = net.cli("invoice", "show", out["hash"], "--key", str(net.files["buyer"]), node=CORE)
    assert shown["contents"]["lines"] == [LINE] and shown["contents"]["note"] == NOTE
    assert shown["contents"]["number"] == "INV20250042" and shown["content"] == out["content"]
    for who, node in (("seller", SUPPLIER), ("regulator", CORE), ("regulator", SUPPLIER)):
        with net.client(node, who) as client:
            contents = ScfQueries(client).invoice_contents(digest, net.keys[who])
            assert contents["note"] == NOTE and contents["amount"] == 987500

    # another organisation's admin and member: refused; anonymous: who are you
    path = f"/v1/confidential/0x{ref.hex()}"
    for who in ("bank-a-admin", "bank-member"):
        assert _status(net, CORE, who, path) == 403
    assert httpx.get(net.nodes[CORE].url + path, timeout=10).status_code == 401
    # a party's organisation admin gets the ciphertext, without an envelope: it cannot open it
    with net.client(CORE, "core-admin") as client:
        kind, object_id, sealed = PrivacyClient(client).fetch(ref)
        assert (kind, object_id, sealed.envelopes) == (privacy.SCF_INVOICE, digest, [])
        with pytest.raises(env.NotARecipient):
            ScfQueries(client).invoice_contents(digest, net.keys["core-admin"])
    # each reader gets its own envelope only; a node of no concerned organisation keeps nothing
    with net.client(SUPPLIER, "seller") as client:
        assert PrivacyClient(client).fetch(ref)[2].recipients == [seller]
        data_key = env.open_key(net.keys["seller"], PrivacyClient(client).fetch(ref)[2].envelopes[0][1])
        ciphertext = PrivacyClient(client).fetch(ref)[2].ciphertext
    assert _status(net, BANK, "regulator", path) == 404
    with net.client(SUPPLIER, "seller") as client:
        whole = PrivacyClient(client).fetch(ref)[2]
    upload = encode(Kept(privacy.SCF_INVOICE, digest, whole))
    assert _status(net, BANK, "seller", "/v1/confidential", upload) == 403  # bank-a is not concerned
    assert _status(net, CORE, "seller", "/v1/confidential", upload) == 400  # the seller's lone envelope
    with net.client(CORE, "regulator") as client:
        info = client.get("/v1/confidential")
        assert info["org"] == "core" and info["kept"] == 1
        keeps_schema("get", "/v1/confidential", info)
        keeps_schema("get", "/v1/confidential/{hash}", client.get(path))

    # the nodes never saw a plaintext or a data key; the parties' nodes hold the ciphertext
    assert _found(net, NOTE.encode()) == [] and _found(net, LINE.encode()) == []
    assert _found(net, data_key) == []
    holders = {place.split(":")[0] for place in _found(net, ciphertext)}
    assert holders == {net.nodes[CORE].home.name, net.nodes[SUPPLIER].home.name}

    # the buyer asks, the regulator erases (on the record); every node deletes its copy
    with net.client(CORE, "buyer") as client:
        PrivacyWallet(Wallet(net.keys["buyer"], client)).request_erasure(ref, "GDPR art. 17 request 2025-4")
    erased = net.cli("privacy", "erase", "0x" + ref.hex(), "--reason", "approved: GDPR art. 17",
                     "--key", str(net.files["regulator"]), node=BANK)
    assert erased["erased"]
    wait_for(lambda: _found(net, ciphertext) == [], 15, "every node erasing the ciphertext")
    for secret in (data_key, NOTE.encode(), LINE.encode()):
        assert _found(net, secret) == []

    # what remains on chain: the hash, the useless reference, the erasure's record
    with net.client(CORE, "regulator") as client:
        record = ScfQueries(client).invoice(digest)
        assert record["content"] == ref and record["seller"] == seller
        record_of_erasure = PrivacyClient(client).erasure(ref)
        assert record_of_erasure is not None and record_of_erasure["requested_by"] == buyer
    assert _status(net, CORE, "regulator", path) == 410 and _status(net, SUPPLIER, "seller", path) == 410
    # and the content is never kept again, even from a copy a party still holds
    kept = Kept(privacy.SCF_INVOICE, digest, env.Sealed(ciphertext, [(seller, bytes(80))]))
    assert _status(net, SUPPLIER, "seller", "/v1/confidential", encode(kept)) == 410
    shown = net.cli("privacy", "show", "0x" + ref.hex(), "--key", str(net.files["regulator"]), node=CORE)
    assert shown["erased"] and shown["erasure"]["reason"] == "approved: GDPR art. 17"


def test_uploads_are_checked_against_the_chain(net: Net) -> None:
    """A sealed object whose reference no invoice carries, or sealed without the supervisor, is
    refused and nothing is kept."""
    seller, buyer = net.keys["seller"], net.keys["buyer"]
    with net.client(SUPPLIER, "seller") as client:
        reads = PrivacyClient(client)
        keys = reads.recipients([seller.address, buyer.address])
        stray = env.seal(b"never registered", keys, privacy.context(privacy.SCF_INVOICE, bytes(32)))
        before = len(list((net.nodes[SUPPLIER].home / "privacy/sealed").iterdir()))
        for body in (encode(Kept(privacy.SCF_INVOICE, bytes(32), stray)), b"\x93garbage"):
            assert _status(net, SUPPLIER, "seller", "/v1/confidential", body) == 400
        assert len(list((net.nodes[SUPPLIER].home / "privacy/sealed").iterdir())) == before
    # an unsigned upload is refused before any check (the API authenticates)
    response = httpx.post(net.nodes[SUPPLIER].url + "/v1/confidential", content=b"x", timeout=10)
    assert response.status_code == 401
