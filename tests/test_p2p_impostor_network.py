"""Issue 8 on real processes: one organisation cannot impersonate another's validator.

A permissioned network of four validator processes (cb runs 0 and 3, bank-a 1, bank-b 2). With
bank-b's CA key (kept in the network home of a dev network) the attacker issues certificates named
for cb's validator 0 and bank-a's validator 1 and connects with them, again and again, to every
node that accepts those validators. Each node refuses them after the TLS handshake (they chain to a
consortium CA, but not to the CA of the organisation that runs the validator, and carry another
key), the real links stay up and the chain keeps committing. A validator killed with -9 and
restarted is linked again.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from tests.procs import NetNode, cli_json, free_port_base, wait_for

from consortia.p2p.certs import issue_node_cert
from consortia.p2p.framing import FrameCodec
from consortia.p2p.wire import HELLO_BODY

pytestmark = pytest.mark.slow

ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"
ROUNDS = 6


def impersonate(cert: Path, key: Path, bundle: Path, port: int) -> str:
    """Connect to a node's p2p port with a forged certificate and say hello like a validator.

    "accepted" if the node says hello back (it took us for the validator we are named for),
    "refused" if it closes the connection first, "no-tls" if the handshake itself failed.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.load_verify_locations(cafile=str(bundle))
    context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            tls = context.wrap_socket(raw)
        except (ssl.SSLError, OSError):
            return "no-tls"
        with tls:
            try:
                tls.sendall(FrameCodec().encode(HELLO_BODY))
                data = tls.recv(64)
            except (ssl.SSLError, OSError):
                return "refused"
    return "accepted" if data else "refused"


def linked(nodes: list[NetNode]) -> bool:
    """Every node has a link up to every other."""
    return all(
        sorted(node.status()["peers"]) == [j for j in range(len(nodes)) if j != i]
        for i, node in enumerate(nodes)
    )


def test_bank_b_cannot_impersonate_other_organisations_validators(tmp_path: Path) -> None:
    base = free_port_base(4, p2p_offset=100)
    info: dict[str, Any] = cli_json(
        "network", "init", "--validators", "4", "--home", str(tmp_path / "net"),
        "--base-port", str(base), "--orgs", ORGS,
    )
    orgs = {o["name"]: o for o in info["orgs"]}
    assert orgs["cb"]["validators"] == [0, 3] and orgs["bank-a"]["validators"] == [1]
    assert orgs["bank-b"]["validators"] == [2]
    nodes = [NetNode(Path(n["home"]), n["api"]) for n in info["nodes"]]
    p2p_ports = {n["index"]: n["p2p_port"] for n in info["nodes"]}
    bundle = nodes[2].home / "tls" / "ca-bundle.pem"  # bank-b's own node trusts every CA
    # bank-b's CA key issues certificates named for cb's validator 0 and bank-a's validator 1
    bank_b_ca = (Path(orgs["bank-b"]["ca_cert"]), Path(orgs["bank-b"]["ca_key"]))
    forged = {i: issue_node_cert(*bank_b_ca, i, f"forged-{i}", tmp_path / "forged") for i in (0, 1)}
    try:
        for node in nodes:
            node.start()
        wait_for(lambda: linked(nodes), 60, "every validator linked to every other")
        wait_for(lambda: min(n.height() for n in nodes) >= 2, 60, "the first commits")
        before = max(n.height() for n in nodes)

        outcomes: list[tuple[int, int, str]] = []
        for _ in range(ROUNDS):
            for index, (cert, key) in forged.items():
                for target in range(index + 1, 4):  # the nodes that accept validator `index`
                    outcomes.append((index, target, impersonate(cert, key, bundle, p2p_ports[target])))
            assert linked(nodes)
        assert {outcome for _, _, outcome in outcomes} == {"refused"}, outcomes
        wait_for(lambda: min(n.height() for n in nodes) >= before + 3, 60, "commits to go on")
        assert linked(nodes)

        # each node said why: the forged certificate is not from the validator's organisation's CA
        for target in (1, 2, 3):
            log = (nodes[target].home / "test-node.log").read_text()
            refusals = [line for line in log.splitlines() if "refused connection" in line]
            assert any("validator 0 is issued by 'bank-b', not by 'cb'" in r for r in refusals), log
            if target > 1:
                assert any("validator 1 is issued by 'bank-b', not by 'bank-a'" in r for r in refusals)
            assert "replaces" not in log

        # an honest validator killed with -9 comes back and is linked again; the chain goes on
        nodes[0].kill9()
        wait_for(lambda: all(0 not in n.status()["peers"] for n in nodes[1:]), 30, "0's links to end")
        nodes[0].start()
        wait_for(lambda: linked(nodes), 60, "the restarted validator to be linked again")
        after = max(n.height() for n in nodes[1:])
        wait_for(lambda: min(n.height() for n in nodes) >= after + 2, 60, "commits with all four")
    finally:
        for node in nodes:
            node.stop()
