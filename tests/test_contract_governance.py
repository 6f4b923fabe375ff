"""On a permissioned chain, contract code is deployed or upgraded only as governance approved:
the registry's hook is the one the node wires (`contracts.composition._approved_by_governance`)."""

from __future__ import annotations

from consortia.codec import encode
from consortia.contracts.composition import _approved_by_governance
from consortia.contracts.permissioned.governance import encode_propose_args, encode_vote_args, proposals
from consortia.contracts.permissioned.harness import consortium
from consortia.contracts.permissioned.records import ContractCode
from consortia.contracts.python.examples import example_source
from consortia.contracts.python.host import PythonContractHost
from consortia.contracts.python.registry import ContractRegistry, contract_info
from consortia.contracts.python.source_hash import code_hash_of


def approve(net, kind: str, name: str, source: str) -> None:
    payload = encode(ContractCode(name, code_hash_of(source)))
    h = net.harness
    out = h.call(net.admins["cb"].address, "governance", "propose", encode_propose_args(kind, payload, 100))
    assert out.ok, out.message
    pid = proposals(h.get)[-1].id
    h.call(net.admins["bank-a"].address, "governance", "vote", encode_vote_args(pid, True))
    done = h.call(net.admins["bank-b"].address, "governance", "vote", encode_vote_args(pid, True))
    assert done.ok, done.message


def test_deploy_and_upgrade_need_the_approved_code() -> None:
    net = consortium()
    h = net.harness
    host = PythonContractHost()
    h.contracts["contracts"] = ContractRegistry(
        host, may_deploy=_approved_by_governance, may_upgrade=_approved_by_governance
    )
    owner = net.admins["bank-a"].address
    v1 = example_source("token")
    deploy = encode(["token", v1, ["TOK", 1000]])

    refused = h.call(owner, "contracts", "deploy", deploy)
    assert refused.code == "deploy_denied" and "approval" in refused.message
    assert contract_info(h.get, "token") is None

    approve(net, "deploy-contract", "token", v1)
    assert h.call(owner, "contracts", "deploy", deploy).ok
    assert contract_info(h.get, "token").version == 1

    v2 = v1 + "\n# version 2\n"
    assert h.call(owner, "contracts", "upgrade", encode(["token", v2])).code == "deploy_denied"
    approve(net, "upgrade-contract", "token", v2)
    assert h.call(owner, "contracts", "upgrade", encode(["token", v2])).ok
    info = contract_info(h.get, "token")
    assert info.version == 2 and info.code_hash == code_hash_of(v2)
