"""A local 4-validator network on this machine: committed TPS and finality latency.

Starts real validator processes (mutual TLS between them), offers signed transfers through the
HTTP batch API of every node at rising rates, and for each rate prints the committed TPS and
finality latency p50/p99 (submission -> the block holding it is committed, seen on the node's
event stream). Also prints the machine's raw libsodium verification rate on all cores, and the
ceiling that gives when every validator verifies every transaction once.

    python bench/network.py [--validators 4] [--rates 500,1000,1500,2000,3000] [--seconds 8]
    python bench/network.py --down 1     # then again with one validator killed: the ratio
    python bench/network.py --wallets    # then wallet payments on a permissioned network
    python bench/network.py --netem "50ms 10ms loss 1%"   # then on namespaced hosts, WAN-like

``--netem``: after the loopback sweep, the same network with each validator in its own network
namespace and address (``consortia.netlab``), the traffic between them delayed and dropped as
netem's words say; load and event streams reach the nodes unimpaired (the operator's port).

``--wallets``: after the plain sweep (open chain), a second 4-validator network with
organisations (central bank, two operator banks, regulator), the e-CNY tier table, and tier-2
wallets of both banks paying each other through the guarded currency with every check on —
identity, freeze, tier limits per payment / per day / balance, large-amount, structuring and
velocity alert rules — over the same rates; prints both sustained figures and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).parent))
from consortia.client.client import Client
from consortia.client.permissioned import PermWallet, raise_for_result
from consortia.client.wallet import Wallet
from consortia.codec import encode
from consortia.contracts.permissioned.identity import pii_commitment
from consortia.crypto.hashing import sha256
from consortia.crypto.keyfile import load_key_file
from consortia.crypto.ratebench import raw_ed25519_verify_rate_parallel
from consortia.netlab.hosts import Lab
from consortia.node.config import load_config, write_config
from consortia.node.network_setup import NETWORK_CHAIN_ID, init_network
from consortia.types.genesis import ChainParams
from consortia.types.org_specs import IdentitySpec
from transfers import make_keys, percentile, sign_all


def free_base_port() -> int:
    """A base with free API and p2p ports below Linux's ephemeral range (32768 and up)."""
    for base in range(21000, 31000, 250):
        ports = [base + i for i in range(8)] + [base + 100 + i for i in range(8)]
        ok = True
        for port in ports:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free block of ports")


INDEX_DB = ""
"""``--index-db`` for every node ("" leaves the node's default, a SQLite index in its home)."""


def start_nodes(homes: list[Path], lab: Lab | None = None) -> list[subprocess.Popen[str]]:
    """Node processes (each in its lab host's namespace when ``lab`` is given)."""
    procs = []
    for i, home in enumerate(homes):
        log = open(home / "bench-node.log", "w")  # noqa: SIM115
        argv = [sys.executable, "-m", "consortia.cli", "node", "start", "--home", str(home), "--json"]
        if INDEX_DB:
            argv += ["--index-db", INDEX_DB]
        kwargs: dict = {"stdout": subprocess.PIPE, "stderr": log, "stdin": subprocess.DEVNULL}
        procs.append(lab.popen(i, argv, **kwargs) if lab else subprocess.Popen(argv, text=True, **kwargs))
    for proc in procs:
        assert proc.stdout is not None
        proc.stdout.readline()
    return procs


def stop_nodes(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def follow_commits(url: str, committed_at: dict[bytes, float], stop: threading.Event) -> None:
    try:
        with httpx.Client(base_url=url, timeout=None) as http, http.stream("GET", "/v1/events") as stream:
            for line in stream.iter_lines():
                if stop.is_set():
                    return
                if not line.startswith("data:"):
                    continue
                now = time.perf_counter()
                for ev in json.loads(line[5:])["events"]:
                    committed_at.setdefault(bytes.fromhex(ev["tx_hash"][2:]), now)
    except httpx.HTTPError:
        return  # the node stopped at the end of the run


def offer(urls: list[str], txs: list[bytes], rate: int, seconds: float, batch: int,
          submitted_at: dict[bytes, float]) -> int:
    """Open-loop load: batches spread round-robin over the nodes at ``rate`` tx/s."""
    total = min(len(txs), int(rate * seconds))
    clients = [httpx.Client(base_url=u, timeout=30) for u in urls]
    start = time.perf_counter()
    sent = 0
    rejected = 0
    i = 0
    while sent < total:
        due = start + sent / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        chunk = txs[sent:sent + batch]
        now = time.perf_counter()
        for raw in chunk:
            submitted_at[sha256(raw)] = now
        r = clients[i % len(clients)].post(
            "/v1/txs", content=encode(chunk), headers={"content-type": "application/msgpack"}
        )
        rejected += r.json().get("rejected", 0)
        sent += len(chunk)
        i += 1
    for c in clients:
        c.close()
    return rejected


def measure(urls: list[str], txs: list[bytes], rate: int, seconds: float) -> dict:
    """Offer ``txs`` at ``rate`` to ``urls``; committed TPS and finality seen on ``urls[0]``."""
    submitted: dict[bytes, float] = {}
    committed: dict[bytes, float] = {}
    stop = threading.Event()
    follower = threading.Thread(target=follow_commits, args=(urls[0], committed, stop), daemon=True)
    follower.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    rejected = offer(urls, txs, rate, seconds, max(50, rate // 10), submitted)
    deadline = time.perf_counter() + 20
    while len(committed) < len(txs) - rejected and time.perf_counter() < deadline:
        time.sleep(0.1)
    stop.set()
    hashes = [sha256(t) for t in txs]
    lat = [committed[h] - submitted[h] for h in hashes if h in committed and h in submitted]
    end = max(committed.values()) if committed else time.perf_counter()
    return {
        "offered_tps": rate,
        "committed": len(lat),
        "rejected": rejected,
        "committed_tps": round(len(lat) / (end - t0)) if lat else 0,
        "p50_ms": round(percentile(lat, 0.5) * 1000) if lat else None,
        "p99_ms": round(percentile(lat, 0.99) * 1000) if lat else None,
    }


def sweep(urls: list[str], txs: list[bytes], rates: list[int], seconds: float, label: str) -> list[dict]:
    """Rising rates until the network stops keeping up; consumes the txs it offered."""
    rows = []
    offset = 0
    for rate in rates:
        count = int(rate * seconds)
        row = {"phase": label, **measure(urls, txs[offset:offset + count], rate, seconds)}
        offset += count
        rows.append(row)
        print(json.dumps(row), flush=True)
        if not row["committed"] or row["committed"] < 0.95 * count or row["p99_ms"] > 5000:
            break
    del txs[:offset]
    return rows


def run(validators: int, rates: list[int], seconds: float, accounts: int, down: int = 0,
        warmup: float = 20) -> dict:
    """All validators up over ``rates``; then, with ``down`` > 0, the last ``down`` validators
    killed (kill -9) and, after ``warmup`` seconds of light load, the same rates again."""
    tmp = Path(tempfile.mkdtemp(prefix="consortia-net-bench-"))
    keys = make_keys(accounts)
    params = ChainParams(max_block_txs=5000, mempool_max_txs=10**6, block_interval_ms=100)
    homes = init_network(tmp / "net", validators, base_port=free_base_port(),
                         extra_allocations=[(k.address, 10**12) for k in keys], params=params)
    phases = 2 if down else 1
    total_needed = int(sum(rates) * seconds * phases + 50 * warmup * (down > 0)) + 10
    print(f"signing {total_needed} transfers from {accounts} accounts ...", flush=True)
    all_txs = sign_all(keys, total_needed, NETWORK_CHAIN_ID)
    procs = start_nodes([h.home for h in homes])
    urls = [h.api_url for h in homes]
    results: list[dict] = []
    try:
        time.sleep(2)
        results += sweep(urls, all_txs, rates, seconds, "all up")
        if down:
            for proc in procs[validators - down:]:
                proc.send_signal(signal.SIGKILL)
            live = urls[:validators - down]
            print(f"killed {down} validator(s); {warmup:.0f} s of light load while leaders adapt",
                  flush=True)
            warm = all_txs[:int(50 * warmup)]
            del all_txs[:len(warm)]
            measure(live, warm, 50, warmup)
            results += sweep(live, all_txs, rates, seconds, f"{down} down")
    finally:
        stop_nodes(procs)
        shutil.rmtree(tmp, ignore_errors=True)
    return {"runs": results}


def place_on_hosts(homes: list[Path], lab: Lab) -> list[str]:
    """Node ``i`` listens on lab host ``i``'s address and dials its peers at theirs; the API URLs."""
    for i, home in enumerate(homes):
        config = load_config(home)
        peers = [msgspec.structs.replace(p, host=lab.address(p.index)) for p in config.peers]
        write_config(home, msgspec.structs.replace(
            config, api_host=lab.address(i), p2p_host=lab.address(i), peers=peers))
    return [f"http://{lab.address(i)}:{load_config(h).api_port}" for i, h in enumerate(homes)]


def run_netem(validators: int, rates: list[int], seconds: float, accounts: int, netem: str) -> dict:
    """The plain-transfer sweep with every validator on its own namespaced host under ``netem``."""
    tmp = Path(tempfile.mkdtemp(prefix="consortia-netem-bench-"))
    keys = make_keys(accounts)
    params = ChainParams(max_block_txs=5000, mempool_max_txs=10**6, block_interval_ms=100)
    homes = init_network(tmp / "net", validators, base_port=free_base_port(),
                         extra_allocations=[(k.address, 10**12) for k in keys], params=params)
    all_txs = sign_all(keys, int(sum(rates) * seconds) + 10, NETWORK_CHAIN_ID)
    with Lab(validators) as lab:
        urls = place_on_hosts([h.home for h in homes], lab)
        lab.impair(netem)
        procs = start_nodes([h.home for h in homes], lab)
        try:
            time.sleep(3)
            rows = sweep(urls, all_txs, rates, seconds, f"netem {netem}")
            stats = lab.command(stats=True)
            print(f"lab: {stats['lost']} frames lost between hosts", flush=True)
        finally:
            stop_nodes(procs)
            shutil.rmtree(tmp, ignore_errors=True)
    return {"runs": rows}


WALLET_ORGS = "cb:central-bank,bank-a:bank,bank-b:bank,reg:regulator"
WALLET_TIER = 2
WALLET_FUNDS = 10**7
"""Each wallet's genesis balance (fen): within the tier-2 balance cap of 50,000,000."""


def set_alert_rules(root: Path, url: str) -> None:
    """The regulator turns every alert rule on (one transaction each), before the sweep."""
    regulator = PermWallet(Wallet(load_key_file(root / "orgs" / "reg" / "admin.key", None), Client(url)))
    for rule, params in [("large_amount", [1_000_000]), ("structuring", [1_000_000, 1_000, 3, 100]),
                         ("velocity", [10_000, 10**9, 100])]:
        raise_for_result(regulator.set_rule(rule, params))


def run_wallets(validators: int, rates: list[int], seconds: float, accounts: int,
                rules: bool = True) -> dict:
    """The wallet-payment sweep on a permissioned network (see the module docs)."""
    tmp = Path(tempfile.mkdtemp(prefix="consortia-wallet-bench-"))
    keys = make_keys(accounts)
    wallets = [IdentitySpec(k.address, ("bank-a", "bank-b")[i % 2], "wallet", WALLET_TIER,
                            pii_commitment(b"bench-salt-%08d" % i, b"phone:%d" % i))
               for i, k in enumerate(keys)]
    params = ChainParams(max_block_txs=5000, mempool_max_txs=10**6, block_interval_ms=100)
    homes = init_network(tmp / "net", validators, base_port=free_base_port(),
                         extra_allocations=[(k.address, WALLET_FUNDS) for k in keys], params=params,
                         orgs=WALLET_ORGS, extra_identities=wallets)
    total_needed = int(sum(rates) * seconds) + 10
    print(f"signing {total_needed} wallet payments from {accounts} tier-{WALLET_TIER} wallets ...",
          flush=True)
    all_txs = sign_all(keys, total_needed, NETWORK_CHAIN_ID)
    procs = start_nodes([h.home for h in homes])
    urls = [h.api_url for h in homes]
    try:
        time.sleep(2)
        if rules:
            set_alert_rules(tmp / "net", urls[0])
        rows = sweep(urls, all_txs, rates, seconds, "wallets")
    finally:
        stop_nodes(procs)
        shutil.rmtree(tmp, ignore_errors=True)
    return {"runs": rows}


def best_sustained(rows: list[dict]) -> dict | None:
    """The highest committed rate that kept up with the offer within the latency goals."""
    good = [r for r in rows
            if r["committed_tps"] >= 0.9 * r["offered_tps"]
            and r["p50_ms"] is not None and r["p50_ms"] < 1000 and r["p99_ms"] < 2000]
    return max(good, key=lambda r: r["committed_tps"]) if good else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--rates", default="500,1000,1500,2000,2500,3000,4000")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--accounts", type=int, default=4000)
    parser.add_argument("--down", type=int, default=0,
                        help="after the all-up sweep, kill this many validators and sweep again")
    parser.add_argument("--warmup", type=float, default=20,
                        help="seconds of light load after the kill, before measuring")
    parser.add_argument("--wallets", action="store_true",
                        help="also sweep wallet payments on a permissioned network (all checks on)")
    parser.add_argument("--wallets-only", action="store_true",
                        help="only the wallet sweep (for profiling it; no ratio)")
    parser.add_argument("--index-db", default="",
                        help="the nodes' SQL index: 'off' to measure without it (default: SQLite)")
    parser.add_argument("--no-rules", action="store_true",
                        help="wallet sweep without the alert rules (to see what they cost)")
    parser.add_argument("--netem", default=None,
                        help='also sweep on namespaced hosts under netem words, e.g. "50ms 10ms loss 1%%"')
    args = parser.parse_args()
    global INDEX_DB
    INDEX_DB = args.index_db
    raw = raw_ed25519_verify_rate_parallel(20000)
    print(f"raw Ed25519 verify on {os.cpu_count()} cores: {raw:.0f}/s; with {args.validators} "
          f"validators each verifying every transaction once, the ceiling is "
          f"{raw / args.validators:.0f} TPS", flush=True)
    rates = [int(r) for r in args.rates.split(",")]
    out: dict = {"runs": []}
    if not args.wallets_only:
        out = run(args.validators, rates, args.seconds, args.accounts, args.down, args.warmup)
    if args.wallets or args.wallets_only:
        out["runs"] += run_wallets(args.validators, rates, args.seconds, args.accounts,
                                   rules=not args.no_rules)["runs"]
    if args.netem:
        out["runs"] += run_netem(args.validators, rates, args.seconds, args.accounts, args.netem)["runs"]
    figures = {}
    for phase in dict.fromkeys(r["phase"] for r in out["runs"]):
        best = best_sustained([r for r in out["runs"] if r["phase"] == phase])
        if best:
            figures[phase] = best["committed_tps"]
            print(f"[{phase}] highest sustained: {best['committed_tps']} TPS (offered "
                  f"{best['offered_tps']}), finality p50 {best['p50_ms']} ms, p99 {best['p99_ms']} ms "
                  f"= {best['committed_tps'] / (raw / args.validators):.0%} of the verification ceiling")
        else:
            print(f"[{phase}] no rate met p50 < 1 s and p99 < 2 s")
    if args.down:
        label = f"{args.down} down"
        peaks = {phase: max((r["committed_tps"] for r in out["runs"] if r["phase"] == phase), default=0)
                 for phase in ("all up", label)}
        up, down = peaks["all up"], peaks[label]
        ratio = f"{down / up:.0%}" if up else "n/a"
        print(f"with {args.down} of {args.validators} validators down: peak committed {down} vs {up} TPS "
              f"= {ratio} of the all-up figure (same run); sustained {figures.get(label, 0)} vs "
              f"{figures.get('all up', 0)} TPS")
    if args.wallets:
        plain = figures.get("all up", 0)
        wallet = figures.get("wallets", 0)
        peak_of = {phase: max((r["committed_tps"] for r in out["runs"] if r["phase"] == phase), default=0)
                   for phase in ("all up", "wallets")}
        ratio = f"{wallet / plain:.0%}" if plain else "n/a"
        print(f"wallet payments (all checks on) sustained {wallet} TPS vs plain transfers {plain} TPS "
              f"= {ratio} (same run); peaks {peak_of['wallets']} vs {peak_of['all up']} TPS")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the bench process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
