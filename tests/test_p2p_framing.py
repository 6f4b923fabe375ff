from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortia.p2p.errors import FrameTooLarge
from consortia.p2p.framing import HEADER_SIZE, FrameCodec

payloads = st.lists(st.binary(max_size=300), max_size=20)


def _split(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    bounds = [0, *points, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(payloads, st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_any_split_of_the_stream_yields_the_same_frames(bodies: list[bytes], cuts: list[int]) -> None:
    encoder = FrameCodec(max_frame=300)
    stream = b"".join(encoder.encode(body) for body in bodies)
    decoder = FrameCodec(max_frame=300)
    out: list[bytes] = []
    for piece in _split(stream, cuts):
        out += decoder.feed(piece)
    assert out == bodies
    assert decoder.buffered == 0


@settings(max_examples=200, deadline=None)
@given(payloads, st.integers(min_value=301, max_value=2**32 - 1), st.integers(min_value=1, max_value=7))
def test_oversize_header_is_rejected_without_waiting_for_the_body(
    bodies: list[bytes], length: int, chunk: int
) -> None:
    codec = FrameCodec(max_frame=300)
    stream = b"".join(codec.encode(body) for body in bodies) + struct.pack(">I", length)
    decoder = FrameCodec(max_frame=300)
    with pytest.raises(FrameTooLarge):
        for start in range(0, len(stream), chunk):
            decoder.feed(stream[start : start + chunk])
    assert decoder.failed
    assert decoder.buffered == 0  # nothing of the oversize frame was kept
    with pytest.raises(FrameTooLarge):
        decoder.feed(b"\x00" * HEADER_SIZE)


def test_huge_announced_frame_does_not_allocate() -> None:
    decoder = FrameCodec()  # 8 MiB default
    with pytest.raises(FrameTooLarge, match="4294967295"):
        decoder.feed(b"\xff\xff\xff\xff" + b"x" * 10)


def test_encoder_refuses_oversize_payload_and_accepts_the_maximum() -> None:
    codec = FrameCodec(max_frame=10)
    assert codec.encode(b"x" * 10) == b"\x00\x00\x00\x0a" + b"x" * 10
    with pytest.raises(FrameTooLarge):
        codec.encode(b"x" * 11)


def test_empty_frames_and_partial_header() -> None:
    codec = FrameCodec(max_frame=10)
    assert codec.feed(b"\x00\x00") == []
    assert codec.feed(b"\x00\x00\x00\x00\x00") == [b""]
    assert codec.buffered == 3
    assert codec.feed(b"\x01z") == [b"z"]


def test_max_frame_must_fit_in_the_header() -> None:
    with pytest.raises(ValueError):
        FrameCodec(max_frame=2**32)
