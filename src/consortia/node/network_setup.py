"""``consortia network init``: the homes of a local multi-validator network.

```
DIR/
  genesis.json           the shared genesis (also copied into every node home)
  ca/                    the network's certificate authority (TLS between validators)
  keys/*.key             prefunded account keys (unencrypted dev keys)
  node0 … nodeN-1/       complete node homes: node.json, genesis.json, validator.key,
                         tls/{node.crt,node.key,ca-bundle.pem}, data/
```
Node ``i`` serves its API on ``base_port + i`` and talks to the others on ``base_port + 100 + i``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from consortia.crypto.keyfile import save_key_file
from consortia.crypto.keys import KeyPair
from consortia.errors import ConfigError
from consortia.node.config import (
    GENESIS_FILE,
    VALIDATOR_KEY_FILE,
    NodeConfig,
    PeerConfig,
    write_config,
    write_text_atomic,
)
from consortia.node.genesis import genesis_to_json
from consortia.node.home_setup import DEV_ACCOUNTS, DEV_BALANCE, make_genesis, write_account_keys
from consortia.p2p.certs import create_ca, issue_node_cert, write_ca_bundle
from consortia.p2p.tls import TlsFiles
from consortia.types.genesis import ChainParams

NETWORK_CHAIN_ID = "consortia-local"
P2P_PORT_OFFSET = 100
TLS_DIR = "tls"


@dataclass(frozen=True, slots=True)
class NodeHome:
    index: int
    home: Path
    api_url: str
    p2p_port: int


def tls_files(home: Path) -> TlsFiles:
    tls = home / TLS_DIR
    return TlsFiles(ca_bundle=tls / "ca-bundle.pem", cert=tls / "node.crt", key=tls / "node.key")


def node_homes(root: Path) -> list[Path]:
    homes = sorted(
        (p for p in root.glob("node*") if (p / GENESIS_FILE).exists()),
        key=lambda p: int(p.name[4:]) if p.name[4:].isdigit() else 0,
    )
    return homes


def init_network(
    root: Path,
    validators: int,
    suite: str = "ed25519",
    base_port: int = 8600,
    host: str = "127.0.0.1",
    extra_allocations: list[tuple[bytes, int]] | None = None,
    params: ChainParams | None = None,
) -> list[NodeHome]:
    if validators < 1:
        raise ConfigError("a network needs at least one validator")
    if (root / GENESIS_FILE).exists():
        raise ConfigError(f"{root} already holds a network; use another --home or delete it")
    root.mkdir(parents=True, exist_ok=True)
    keys = [KeyPair.generate(suite) for _ in range(validators)]
    accounts = write_account_keys(root / "keys", DEV_ACCOUNTS, suite, None)
    genesis = make_genesis(
        NETWORK_CHAIN_ID,
        suite,
        [(f"validator-{i}", key) for i, key in enumerate(keys)],
        [(acct.address, DEV_BALANCE) for acct, _ in accounts] + list(extra_allocations or []),
        params,
    )
    genesis_json = genesis_to_json(genesis)
    write_text_atomic(root / GENESIS_FILE, genesis_json)
    ca_cert, ca_key = create_ca("consortia-local", root / "ca")
    p2p = {i: base_port + P2P_PORT_OFFSET + i for i in range(validators)}
    homes = []
    for i, key in enumerate(keys):
        home = root / f"node{i}"
        home.mkdir(parents=True, exist_ok=True)
        save_key_file(home / VALIDATOR_KEY_FILE, key, None)
        write_text_atomic(home / GENESIS_FILE, genesis_json)
        issue_node_cert(ca_cert, ca_key, i, "node", home / TLS_DIR)
        write_ca_bundle([ca_cert], home / TLS_DIR / "ca-bundle.pem")
        peers = [PeerConfig(j, host, p2p[j]) for j in range(validators) if j != i]
        config = NodeConfig(
            name=f"node{i}",
            validator_index=i,
            api_host=host,
            api_port=base_port + i,
            p2p_host=host,
            p2p_port=p2p[i],
            peers=peers,
        )
        write_config(home, config)
        homes.append(NodeHome(i, home, f"http://{host}:{base_port + i}", p2p[i]))
    return homes
