"""The lab switch's decisions (pure): delay within the jitter, loss at the rate asked, order kept
per path, partitions that block exactly the frames crossing them, the operator never impaired."""

from __future__ import annotations

import random

import pytest

from consortia.netlab.wire import BROADCAST, Impairment, Wire


def mac(i: int) -> bytes:
    return bytes([2, 0, 0, 0, 0, i])


def frame(src: int, dst: bytes) -> bytes:
    return dst + mac(src) + b"\x08\x00" + b"x" * 50


def learned(hosts: int = 4, **kwargs: object) -> Wire:
    wire = Wire(hosts, rng=random.Random(7), **kwargs)  # type: ignore[arg-type]
    for port in range(hosts + 1):
        wire.route(port, frame(port, BROADCAST), 0.0)
    return wire


def test_netem_words_parse() -> None:
    assert Impairment.parse("50ms 10ms loss 1%") == Impairment(50, 10, 1)
    assert Impairment.parse("delay 20ms") == Impairment(20, 0, 0)
    assert Impairment.parse("") == Impairment()
    for bad in ("50", "50ms 10ms 5ms", "loss 100%", "10ms 20ms"):
        with pytest.raises(ValueError):
            Impairment.parse(bad)


def test_delay_stays_within_the_jitter_and_order_is_kept_per_path() -> None:
    wire = learned(impairment=Impairment(50, 10, 0))
    times = []
    for k in range(2000):
        (when, port), = wire.route(0, frame(0, mac(1)), k * 0.001)
        assert port == 1
        times.append(when)
        assert when - k * 0.001 >= 0.040 - 1e-9 or when == times[-2]  # held back only to keep order
    assert times == sorted(times)
    delays = [t - k * 0.001 for k, t in enumerate(times)]
    assert min(delays) >= 0.040 and max(delays) <= 0.060 + 1e-9
    assert 0.045 < sum(delays) / len(delays) < 0.056


def test_loss_rate_is_the_one_asked_and_the_operator_is_never_impaired() -> None:
    wire = learned(impairment=Impairment(50, 10, 5))
    lost_before = wire.lost
    delivered = sum(len(wire.route(0, frame(0, mac(2)), 1.0)) for _ in range(20_000))
    assert 0.94 < delivered / 20_000 < 0.96
    assert wire.lost - lost_before == 20_000 - delivered
    op = wire.operator
    for _ in range(1000):
        assert wire.route(0, frame(0, mac(op)), 2.0) == [(2.0, op)]
        assert wire.route(op, frame(op, mac(3)), 2.0) == [(2.0, 3)]


def test_partitions_block_exactly_the_frames_that_cross_them() -> None:
    wire = learned()
    wire.partition([[0, 1], [2, 3]])
    assert wire.route(0, frame(0, mac(1)), 0) == [(0, 1)]
    assert wire.route(0, frame(0, mac(2)), 0) == []
    assert wire.route(3, frame(3, mac(1)), 0) == []
    assert wire.route(2, frame(2, mac(wire.operator)), 0) == [(0, wire.operator)]
    assert sorted(p for _, p in wire.route(0, frame(0, BROADCAST), 0)) == [1, wire.operator]
    wire.partition([[0, 1, 2]])  # host 3 alone
    assert wire.route(3, frame(3, mac(0)), 0) == [] and wire.route(2, frame(2, mac(0)), 0) == [(0, 0)]
    wire.heal()
    assert wire.route(3, frame(3, mac(0)), 0) == [(0, 0)]
    with pytest.raises(ValueError):
        wire.partition([[0, 1], [1, 2]])
