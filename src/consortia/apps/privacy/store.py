"""A node's store of sealed content: ``HOME/privacy/sealed/<ref hex>``, one file per object.

A file holds the content's kind (``scf.invoice``), the id of the object it belongs to, and the
sealed object (ciphertext and envelopes, :mod:`consortia.crypto.envelope`) — never a plaintext
or a data key in clear, which the node never sees. It is written to a temporary name, synced
and renamed (a crash leaves the whole file or none). Erasure overwrites the file with zeros,
syncs, and unlinks it. Not consensus state.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from consortia.codec import decode, encode
from consortia.crypto import envelope as env
from consortia.errors import ConsortiaError, DecodeError

STORE_DIR = ("privacy", "sealed")


class Kept(msgspec.Struct, array_like=True, frozen=True):
    kind: str
    object_id: bytes
    sealed: env.Sealed


class SealedStore:
    def __init__(self, home: Path) -> None:
        self.root = home.joinpath(*STORE_DIR)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, ref: bytes) -> Path:
        return self.root / ref.hex()

    def has(self, ref: bytes) -> bool:
        return self.path(ref).is_file()

    def get(self, ref: bytes) -> Kept | None:
        try:
            raw = self.path(ref).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return decode(raw, Kept)
        except (DecodeError, ConsortiaError):
            return None

    def put(self, kind: str, object_id: bytes, sealed: env.Sealed) -> bytes:
        """Keep ``sealed`` under its ref (returned); a second put of the same ref replaces it."""
        ref = sealed.ref
        target = self.path(ref)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as out:
            out.write(encode(Kept(kind, object_id, sealed)))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        return ref

    def erase(self, ref: bytes) -> bool:
        """Overwrite and delete what is kept for ``ref``; whether there was anything."""
        target = self.path(ref)
        try:
            size = target.stat().st_size
        except FileNotFoundError:
            return False
        with open(target, "r+b") as out:
            out.write(bytes(size))
            out.flush()
            os.fsync(out.fileno())
        target.unlink()
        directory = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return True

    def refs(self) -> list[bytes]:
        out = []
        for p in self.root.iterdir():
            if p.is_file() and "." not in p.name and len(p.name) == 64:
                try:
                    out.append(bytes.fromhex(p.name))
                except ValueError:
                    continue
        return out

    def count(self) -> int:
        return len(self.refs())
