"""A signature-checking worker process: frames of ``[[pk, msg, sig], ...]`` in, bitmaps out.

Started by :mod:`consortia.crypto.verify_processes`; reads stdin until it closes.
"""

from __future__ import annotations

import sys

import msgspec

from consortia.crypto.suites import get_suite
from consortia.crypto.verify_processes import read_frame, write_frame


def main(suite_name: str) -> None:
    verify_many = get_suite(suite_name).verify_many
    decoder = msgspec.msgpack.Decoder(list[tuple[bytes, bytes, bytes]])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        frame = read_frame(stdin)
        if frame is None:
            return
        try:
            items = decoder.decode(frame)
        except msgspec.DecodeError:
            items = []
        write_frame(stdout, bytes(verify_many(items)))


if __name__ == "__main__":
    main(sys.argv[1])
