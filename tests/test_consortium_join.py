"""Joining later and key rotation through governance (issue 15, decisions/0015), on one network
of four organisations started from their own homes on 127.0.0.1:

* a fifth organisation's bundle goes in a ``join-org`` proposal; once it passes, the running
  nodes learn its address and TLS pin from the chain (no config edited, no restart), it runs
  ``node init --join-index`` from the genesis and the bundles, catches up and validates from
  the epoch on;
* a validator's consensus key is rotated by ``rotate-validator``: the node switches keys at the
  epoch and the network keeps committing throughout, and again after a restart;
* an organisation's CA is rotated by ``rotate-ca`` (decisions/0019): its node presents the new
  CA's certificate from the effective height, every node accepts it without a restart (the
  rotating node's and a peer's new handshakes prove it), commits go on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.procs import NetNode, api_get, cli_json, cli_result, free_port_base, register_readers, wait_for

from consortia.crypto.keyfile import load_key_file
from consortia.node.ca_rollover import issued_by
from consortia.node.genesis import genesis_to_json
from consortia.node.genesis_assembly import assemble_genesis
from consortia.node.org_home import bundle_to_json, export_bundle, init_org_home
from consortia.node.org_node import init_org_node
from consortia.p2p.certs import load_certificate

pytestmark = pytest.mark.slow
ORGS = (("cb", "central-bank"), ("bank-a", "bank"), ("bank-b", "bank"), ("reg", "regulator"))


class Consortium:
    def __init__(self, root: Path, base: int) -> None:
        self.root = root
        self.base = base
        self.bundles: list[Path] = []
        self.nodes: dict[str, NetNode] = {}
        self.genesis = root / "genesis.json"

    def admin(self, org: str) -> str:
        return str(self.root / org / "admin.key")

    def make_org(self, i: int, name: str, role: str) -> Path:
        init_org_home(self.root / name, name, role, "ed25519", None)
        bundle = export_bundle(self.root / name, "127.0.0.1", self.base + 100 + i, self.base + i, None)
        path = self.root / f"{name}.bundle.json"
        path.write_text(bundle_to_json(bundle))
        return path

    def start(self, name: str, port_index: int) -> NetNode:
        node = NetNode(self.root / name / "node", f"http://127.0.0.1:{self.base + port_index}")
        register_readers({"nodes": [{"api": node.url}]}, self.root / "reg" / "admin.key")
        node.start()
        self.nodes[name] = node
        return node

    def decide(self, *proposal: str) -> dict[str, Any]:
        """Propose with cb's admin, approve with the other genesis organisations' until it passes
        (2/3 of the organisations: 3 of 4, then 4 of 5)."""
        url = self.nodes["cb"].url
        done = cli_result("gov", "propose", *proposal, "--key", self.admin("cb"), "--node", url)
        assert done["_rc"] == 0, done
        pid = str(done["proposal_id"])
        for org in ("bank-a", "bank-b", "reg"):
            done = cli_result("gov", "vote", pid, "--approve", "--key", self.admin(org), "--node", url)
            if done["proposal"]["status"] != "open":
                break
        assert done["proposal"]["status"] == "executed", done
        return done


def block(url: str, height: int) -> dict[str, Any]:
    return dict(api_get(f"{url}/v1/blocks/{height}", timeout=5).json())


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("consortium")
    c = Consortium(root, free_port_base(6, p2p_offset=100))
    c.bundles = [c.make_org(i, name, role) for i, (name, role) in enumerate(ORGS)]
    from consortia.node.org_home import load_bundle

    loaded = [load_bundle(p) for p in c.bundles]
    c.genesis.write_text(genesis_to_json(assemble_genesis(loaded, "join-test", [])))
    for name, _ in ORGS:
        init_org_node(root / name, c.genesis.read_bytes(), loaded)
    try:
        for i, (name, _) in enumerate(ORGS):
            c.start(name, i)
        wait_for(lambda: min(n.height() for n in c.nodes.values()) >= 1, 30, "first block")
        yield c
    finally:
        for node in c.nodes.values():
            node.stop()


def test_an_organisation_joins_later_from_its_bundle(net: Consortium) -> None:
    bundle = net.make_org(4, "bank-c", "bank")
    done = net.decide("join-org", "--bundle", str(bundle))
    outcome = done["proposal"]["outcome"]
    assert "transport index 4" in outcome and "127.0.0.1" in outcome, outcome

    # the running nodes learnt the new peer from the chain (node.json untouched)
    for name, _ in ORGS:
        config = json.loads((net.root / name / "node" / "node.json").read_text())
        indices = [p["index"] for p in config["peers"]]
        assert len(indices) == 3 and 4 not in indices

    # the new organisation prepares its node from the genesis and the bundles, then starts
    refused = cli_result("node", "init", "--org-home", str(net.root / "bank-c"), "--genesis",
                         str(net.genesis), "--bundle", str(bundle), "--join-index", "2",
                         *[a for p in net.bundles for a in ("--bundle", str(p))])
    assert refused["_rc"] != 0 and "genesis validator" in refused["error"]["message"], refused
    made = cli_json("node", "init", "--org-home", str(net.root / "bank-c"), "--genesis", str(net.genesis),
                    "--bundle", str(bundle), "--join-index", "4",
                    *[a for p in net.bundles for a in ("--bundle", str(p))])
    assert made["index"] == 4 and len(made["peers"]) == 4
    fifth = net.start("bank-c", 4)
    nodes = list(net.nodes.values())
    wait_for(lambda: fifth.status().get("validator") is not None, 60, "the joined node to validate")
    wait_for(lambda: all(n.status().get("epoch") == 1 for n in nodes), 30, "epoch 1 everywhere")
    begin = net.nodes["cb"].height()
    me = fifth.status()["validator"]

    def fifth_signed() -> bool:
        top = min(n.height() for n in nodes)
        return any(me in block(fifth.url, h)["qc"]["signers"] for h in range(begin, top + 1))

    wait_for(fifth_signed, 60, "the joined node's vote in a commit certificate")
    low = min(n.height() for n in nodes)
    assert len({block(n.url, low)["id"] for n in nodes}) == 1


def test_a_validator_key_rotates_at_an_epoch_and_commits_go_on(net: Consortium) -> None:
    home = net.root / "bank-a" / "node"
    old = load_key_file(home / "validator.key").public_key
    made = cli_json("node", "new-key", "--home", str(home))
    new = bytes.fromhex(made["public_key"][2:])
    epoch = net.nodes["cb"].status()["epoch"]
    done = net.decide("rotate-validator", "--home", str(home))
    assert "rotated" in done["proposal"]["outcome"], done
    nodes = list(net.nodes.values())
    wait_for(lambda: all(n.status().get("epoch") == epoch + 1 for n in nodes), 60, "the rotation's epoch")
    bank_a = net.nodes["bank-a"]
    wait_for(lambda: bank_a.status().get("validator") is not None, 30, "bank-a validating with its new key")
    assert load_key_file(home / "validator.key").public_key == new
    assert load_key_file(home / "validator.retired.key").public_key == old
    assert not (home / "validator.next.key").exists()
    me = bank_a.status()["validator"]
    begin = net.nodes["cb"].height()

    def signed_with_new_key() -> bool:
        top = min(n.height() for n in nodes)
        return any(me in block(bank_a.url, h)["qc"]["signers"] for h in range(begin, top + 1))

    wait_for(signed_with_new_key, 60, "bank-a's vote with its new key in a certificate")
    # a restart reads the rotated key and the chain agrees it is bank-a's
    bank_a.stop()
    bank_a.start()
    before = net.nodes["cb"].height()
    wait_for(lambda: min(n.height() for n in nodes) > before + 2, 60, "commits after the restart")
    low = min(n.height() for n in nodes)
    assert len({block(n.url, low)["id"] for n in nodes}) == 1


def test_an_organisation_rotates_its_ca_at_an_epoch_and_commits_go_on(net: Consortium) -> None:
    org_home = net.root / "bank-b"
    tls = org_home / "node" / "tls"
    old_ca = json.loads((org_home / "org.json").read_text())["ca_cert"]
    request = net.root / "bank-b.ca-rotation.json"
    made = cli_json("org", "rotate-ca", "--home", str(org_home), "--out", str(request))
    new_ca = Path(made["ca_cert"])
    assert "PRIVATE" not in request.read_text() and (tls / "node.next.crt").exists()
    # the node still presents its certificate of the old CA until the rotation takes effect
    assert issued_by(load_certificate(tls / "node.crt"), (org_home / old_ca).read_bytes())
    done = net.decide("rotate-ca", "--request", str(request))
    outcome = done["proposal"]["outcome"]
    assert "replaced" in outcome, outcome
    effective = int(outcome.split("from height ")[1].split(";")[0])
    nodes = list(net.nodes.values())
    wait_for(lambda: min(n.height() for n in nodes) > effective, 60, "the rotation's effective height")
    wait_for(lambda: not (tls / "node.next.crt").exists(), 30, "bank-b switching to the new certificate")
    assert issued_by(load_certificate(tls / "node.crt"), new_ca.read_bytes())
    assert (tls / "node.retired.crt").exists()
    # new handshakes: bank-b presents the new CA's certificate, reg has only the old CA in its
    # node.json and its CA bundle; both learn the rotation from the chain
    restarted = [net.nodes["bank-b"], net.nodes["reg"]]
    for node in restarted:
        node.stop()
    for node in restarted:
        node.start()
    signers = {n.status()["validator"] for n in restarted}
    begin = net.nodes["cb"].height()

    def both_signed() -> bool:
        top = min(n.height() for n in nodes)
        seen = {s for h in range(begin, top + 1) for s in block(net.nodes["cb"].url, h)["qc"]["signers"]}
        return signers <= seen

    wait_for(both_signed, 60, "bank-b's and reg's votes in commit certificates after their restart")
    low = min(n.height() for n in nodes)
    assert len({block(n.url, low)["id"] for n in nodes}) == 1
    # a renewal after the rotation comes from the new CA
    renewed = cli_json("node", "rotate-tls", "--home", str(org_home / "node"))
    assert issued_by(load_certificate(Path(renewed["cert"])), new_ca.read_bytes())
