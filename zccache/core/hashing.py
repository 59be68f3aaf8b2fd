"""Content hashing, and the stat signature that decides when a hash may be reused.

A stat signature is only trusted when the file's ctime is older than the moment it
was taken by more than RACY_SECONDS: a write in the same timestamp tick as the
stat would otherwise leave size, mtime and ctime unchanged (git calls such files
"racily clean"). ctime cannot be set by tools that preserve mtimes (cp -p, tar).
"""

from __future__ import annotations

import os
import threading
import time

from blake3 import blake3

from zccache.core.one_at_a_time import KeyedLocks

RACY_SECONDS = 2.0
_RACY_NS = int(RACY_SECONDS * 1e9)

StatSig = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


class Hasher:
    """Key material goes in with a tag and a length, so no two inputs can collide
    by concatenation ("ab" + "c" vs "a" + "bc")."""

    def __init__(self, tag: str) -> None:
        self._h = blake3()
        self.update(tag.encode())

    def update(self, data: bytes) -> None:
        self._h.update(len(data).to_bytes(8, "little"))
        self._h.update(data)

    def text(self, value: str) -> None:
        self.update(value.encode("utf-8", "surrogateescape"))

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def hash_bytes(data: bytes) -> str:
    return blake3(data).hexdigest()


def hash_file(path: str) -> str:
    h = blake3()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


_settled: dict[str, tuple["StatSig", str]] = {}
_settled_lock = threading.Lock()
_digesting = KeyedLocks()


def settled_digest(path: str, st: os.stat_result | None = None) -> str:
    """hash_file's answer, kept while the file's stat signature holds and is
    trusted: a tool and the programs behind it (cc1 alone is 30 MB) are hashed once
    per process, whichever key (the tool's identity, gcc's driver key) or thread asks."""
    sig = trusted_sig(st if st is not None else os.stat(path))
    if sig is None:
        return hash_file(path)
    with _digesting.held(path):
        with _settled_lock:
            known = _settled.get(path)
        if known is not None and known[0] == sig:
            return known[1]
        digest = hash_file(path)
        with _settled_lock:
            if len(_settled) > 1024:
                _settled.clear()
            _settled[path] = (sig, digest)
        return digest


def stat_sig(st: os.stat_result) -> StatSig:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def trusted_sig(st: os.stat_result, now_ns: int | None = None) -> StatSig | None:
    """The file's stat signature, or None when it is too recent to be trusted."""
    now = time.time_ns() if now_ns is None else now_ns
    if now - max(st.st_mtime_ns, st.st_ctime_ns) <= _RACY_NS:
        return None
    return stat_sig(st)


def is_settled(mtime_ns: int, now_ns: int) -> bool:
    """True when a later change could not share this timestamp tick."""
    return now_ns - mtime_ns > _RACY_NS
