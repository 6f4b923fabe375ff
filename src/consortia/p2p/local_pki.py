"""TLS material for a local network in one call (dev networks, tests, the simulator's harness)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from consortia.p2p.certs import KeyType, create_ca, issue_node_cert, write_ca_bundle
from consortia.p2p.pinning import TlsPin, load_trust, pin_from_bundle
from consortia.p2p.tls import TlsFiles


def make_local_pki(
    out_dir: Path, validators: int, orgs: Sequence[str] = ("local",), key_type: KeyType = "p256"
) -> list[TlsFiles]:
    """One CA per organisation, validator ``i`` certified by ``orgs[i % len(orgs)]``'s CA.

    Every node trusts the bundle of all the CAs. Returns the files of validators ``0..validators-1``.
    """
    if validators < 1 or not orgs:
        raise ValueError("a local network needs at least one validator and one organisation")
    cas = [create_ca(org, out_dir / "ca", key_type=key_type) for org in orgs]
    bundle = write_ca_bundle([cert for cert, _ in cas], out_dir / "ca-bundle.pem")
    files: list[TlsFiles] = []
    for index in range(validators):
        ca_cert, ca_key = cas[index % len(cas)]
        cert, key = issue_node_cert(ca_cert, ca_key, index, f"node-{index}", out_dir / f"node-{index}")
        files.append(TlsFiles(ca_bundle=bundle, cert=cert, key=key))
    return files


def local_pins(files: Sequence[TlsFiles]) -> dict[int, TlsPin]:
    """The pin of each validator of ``files`` (index = position), as a node's configuration holds it."""
    return {
        index: pin_from_bundle(f.cert, load_trust(f.ca_bundle)) for index, f in enumerate(files)
    }
