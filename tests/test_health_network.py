"""Healthcare records with consent on four real validators (issue 12): a record put by a
hospital doctor (ciphertext on the hospital's node), granted by the patient to a doctor of
another hospital, fetched and decrypted, revoked, then refused; an emergency opening by a doctor
without consent, alerted to the regulator and the patient, then fetched; the full access log;
and no plaintext, diagnosis or patient name anywhere in any validator's chain store. One network,
driven through the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from tests.procs import (
    CLI,
    NetNode,
    api_client,
    api_get,
    api_post,
    api_put,
    cli,
    reader_env,
    running_network,
    wait_for,
)

from consortia.api.openapi import openapi_spec
from consortia.apps.health import records as rec
from consortia.client.client import Client
from consortia.client.health import HealthWallet
from consortia.client.permissioned import NewIdentity, PermWallet, prepare_identity
from consortia.client.wallet import Wallet
from consortia.crypto.keyfile import load_key_file, save_key_file
from consortia.node.config import HealthStoreConfig, load_config, write_config

ORGS = "cb:central-bank,bank-a:bank,hosp-a:hospital,hosp-b:hospital,reg:regulator"
PATIENT_NAME = "Jane Q. Example"
PLAINTEXT = (f"Patient: {PATIENT_NAME}, born 1970-01-01.\nDiagnosis: type 2 diabetes mellitus; HbA1c 8.1%.\n"
             "Plan: metformin 500 mg twice daily.\n").encode()
pytestmark = pytest.mark.slow


@dataclass
class Net:
    info: dict[str, Any]
    nodes: list[NetNode]
    root: Path
    keys: dict[str, Path]

    @property
    def url(self) -> str:
        return self.nodes[0].url  # hospital A's node: it keeps the records

    def address(self, name: str) -> str:
        return "0x" + load_key_file(self.keys[name]).address.hex()

    def run(self, *args: str, node: str = "") -> dict[str, Any]:
        proc = cli("health", *args, "--node", node or self.url, "--json", timeout=90)
        lines = proc.stdout.strip().splitlines()
        assert lines, f"health {args} printed nothing (rc {proc.returncode}):\n{proc.stderr}"
        return {**json.loads(lines[-1]), "_rc": proc.returncode}


def _identity(org_dir: Path, name: str) -> NewIdentity:
    """A key, its name's salted commitment and a certificate from the organisation's CA."""
    ca = next((org_dir / "ca").glob("*-ca.crt"))
    return prepare_identity(name, "ed25519", ca.read_bytes(), ca.with_suffix(".key").read_bytes())


def _enroll(client: Client, org_dir: Path, new: NewIdentity) -> None:
    admin = PermWallet(Wallet(load_key_file(org_dir / "admin.key"), client))
    result = admin.enroll(new.key.address, 1, new.pii_hash, new.certificate)
    assert result.status == "ok", result.error


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    root = tmp_path_factory.mktemp("health-net")
    with running_network(root / "net", "--orgs", ORGS, start=False) as (info, nodes):
        home = Path(info["home"])
        orgs = {"custodian": home / "orgs/hosp-a", "patient": home / "orgs/bank-a"}
        made = {"custodian": _identity(orgs["custodian"], "records store, hospital A"),
                "patient": _identity(orgs["patient"], PATIENT_NAME)}
        keys = {name: root / f"{name}.key" for name in made}
        for name, new in made.items():
            save_key_file(keys[name], new.key, None)
        keys |= {"doctor-a": home / "orgs/hosp-a/admin.key", "doctor-b": home / "orgs/hosp-b/admin.key",
                 "insurer": Path(next(k["file"] for k in info["keys"] if k["name"] == "bob"))}
        config = load_config(nodes[0].home)  # node0 keeps hospital A's records with the custodian key
        store = HealthStoreConfig(str(keys["custodian"]))
        write_config(nodes[0].home, msgspec.structs.replace(config, health=store))
        for node in nodes:
            node.start()
        wait_for(lambda: min(n.height() for n in nodes) >= 1, 30, "first block")
        with api_client(nodes[0].url) as client:
            for name, new in made.items():
                _enroll(client, orgs[name], new)
        yield Net(info, nodes, root, keys)


def keeps_schema(method: str, path: str, body: Any) -> None:
    """``body`` is valid against the route's 200 schema in /openapi.json (issue 16)."""
    spec = openapi_spec()
    schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(body)


def test_put_grant_fetch_revoke_refuse_break_glass(net: Net) -> None:
    out = net.run("register-key", "--key", str(net.keys["patient"]))  # the CLI once, the SDK for the rest
    assert out["_rc"] == 0 and out["registered"], out
    with api_client(net.url) as client:
        for who in ("custodian", "doctor-b", "insurer"):
            assert HealthWallet(Wallet(load_key_file(net.keys[who]), client)).register_key()["registered"]
    node = api_get(f"{net.url}/v1/health/node", timeout=10).json()
    assert node["custodian"] == net.address("custodian") and node["sealing_key_registered"]
    keeps_schema("get", "/v1/health/node", node)

    source = net.root / "visit.txt"
    source.write_bytes(PLAINTEXT)
    stored = net.run("put", str(source), "--patient", net.address("patient"),
                     "--key", str(net.keys["doctor-a"]))
    assert stored["_rc"] == 0, stored
    record = stored["record"]
    assert (net.nodes[0].home / "health/records" / record[2:]).read_bytes() != PLAINTEXT

    # the store keeps only bytes whose hash the chain holds for this node; other nodes keep none
    put = f"{net.url}/v1/health/records/{record}"
    wrong = api_put(put, content=b"other bytes", timeout=10)
    assert wrong.status_code == 400 and wrong.json()["code"] == "bad_record_upload", wrong.text
    kept = (net.nodes[0].home / "health/records" / record[2:]).read_bytes()
    again_put = api_put(put, content=kept, timeout=10)  # the same ciphertext: kept again
    assert again_put.status_code == 200 and again_put.json()["stored"], again_put.text
    keeps_schema("put", "/v1/health/records/{record}", again_put.json())
    unknown = hashlib.sha256(b"never recorded").hexdigest()
    stray = api_put(f"{net.url}/v1/health/records/0x{unknown}", content=b"never recorded", timeout=10)
    assert stray.status_code == 404 and stray.json()["code"] == "record_not_found", stray.text
    off = api_get(f"{net.nodes[1].url}/v1/health/node", timeout=10)
    assert off.status_code == 404 and off.json()["code"] == "health_store_off"

    # nobody reads without consent
    refused = net.run("get", record, "--key", str(net.keys["doctor-b"]), "--out", str(net.root / "no.txt"))
    assert refused["_rc"] != 0 and refused["error"]["code"] == "no_access", refused

    until = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
    granted = net.run("grant", record, "--to", net.address("doctor-b"), "--purpose", "second opinion",
                      "--until", until, "--key", str(net.keys["patient"]))
    assert granted["_rc"] == 0, granted
    out = net.root / "doctor-b.txt"
    fetched = net.run("get", record, "--key", str(net.keys["doctor-b"]), "--out", str(out))
    assert fetched["_rc"] == 0 and fetched["basis"] == "consent", fetched
    assert out.read_bytes() == PLAINTEXT

    # a replayed fetch request (same signature and nonce) is not served again
    with api_client(net.url) as client:
        reader = load_key_file(net.keys["doctor-b"])
        request = rec.sign_fetch(reader, client.chain_id(), bytes.fromhex(record[2:]))
        body = msgspec.json.encode(request)
        first = api_post(f"{net.url}/v1/health/fetch", content=body, timeout=30)
        again = api_post(f"{net.url}/v1/health/fetch", content=body, timeout=30)
    assert first.status_code == 200, first.text
    keeps_schema("post", "/v1/health/fetch", first.json())
    assert again.status_code == 409 and again.json()["code"] == "replayed_request", again.text
    forged = msgspec.json.encode(msgspec.structs.replace(request, nonce="0x" + "00" * 16))
    refused_forged = api_post(f"{net.url}/v1/health/fetch", content=forged, timeout=30)
    assert refused_forged.status_code == 401 and refused_forged.json()["code"] == "bad_signature"

    revoked = net.run("revoke", record, "--from", net.address("doctor-b"), "--key", str(net.keys["patient"]))
    assert revoked["_rc"] == 0, revoked
    after = net.run("get", record, "--key", str(net.keys["doctor-b"]), "--out", str(net.root / "late.txt"))
    assert after["_rc"] != 0 and after["error"]["code"] == "no_access", after
    assert not (net.root / "late.txt").exists()

    # an insurer is no clinician; a doctor of hospital B opens the record in an emergency
    denied = net.run("break-glass", record, "--reason", "need it", "--key", str(net.keys["insurer"]))
    assert denied["_rc"] != 0 and denied["error"]["code"] == "not_hospital_staff", denied
    opened = net.run("break-glass", record, "--reason", "unconscious on arrival in the ED",
                     "--key", str(net.keys["doctor-b"]))
    assert opened["_rc"] == 0, opened
    emergency = net.root / "emergency.txt"
    fetched = net.run("get", record, "--key", str(net.keys["doctor-b"]), "--out", str(emergency))
    assert fetched["_rc"] == 0 and fetched["basis"] == "break-glass", fetched
    assert emergency.read_bytes() == PLAINTEXT

    alerts = api_get(f"{net.nodes[2].url}/v1/reg/alerts", timeout=10).json()
    rules = [(a["rule"], a["address"]) for a in alerts["alerts"]]
    assert ("health.break_glass", net.address("doctor-b")) in rules, alerts
    patient = api_get(f"{net.nodes[3].url}/v1/health/patients/{net.address('patient')}", timeout=10).json()
    assert patient["records"] == 1 and patient["alerts"] == 1
    assert patient["alert_list"][0]["doctor"] == net.address("doctor-b")

    # the patient sees the whole log, from any node
    log = net.run("log", record, node=net.nodes[1].url)
    kinds = [(e["kind"], e["detail"]) for e in log["log"]]
    assert kinds == [("stored", "hosp-a"), ("granted", "second opinion"), ("access", "consent"),
                     ("access", "consent"), ("revoked", "second opinion"),
                     ("break-glass", "unconscious on arrival in the ED"), ("access", "break-glass")], kinds

    # into a pipe, the text log is whole at any width (nothing wrapped, nothing cut)
    args = ["health", "log", record, "--node", net.url]
    env = {**reader_env(args), **os.environ, "COLUMNS": "40"}
    text = subprocess.run([*CLI, *args], capture_output=True, text=True,
                          timeout=90, stdin=subprocess.DEVNULL, env=env, check=True).stdout
    assert record in text and net.address("doctor-b") in text and "…" not in text
    assert "unconscious on arrival in the ED" in text.splitlines()[-2]

    # nothing personal in any validator's chain store (blocks, receipts, state), nor in the record store
    wait_for(lambda: min(n.height() for n in net.nodes) >= fetched["height"] + 1, 30, "all nodes caught up")
    secrets = [PLAINTEXT, PATIENT_NAME.encode(), b"diabetes", b"metformin"]
    for node in net.nodes:
        files = [p for p in (node.home / "data").rglob("*") if p.is_file()]
        files += [p for p in (node.home / "health").rglob("*") if p.is_file()]
        disk = b"".join(p.read_bytes() for p in files)
        assert b"second opinion" in disk and bytes.fromhex(record[2:]) in disk  # the scan sees the chain
        for secret in secrets:
            assert secret not in disk, (node.home, secret)
