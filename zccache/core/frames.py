"""How a value is stored: a frame that says its format, with a checksum.

    MAGIC (4 bytes) + blake3(body) (32 bytes) + body

``ZC1\\0``: the body is the msgpack of the value, as every entry was before
compression came. ``ZC1z``: the body is that msgpack compressed with zstd
(compression.py). A value that zstd does not make smaller is stored plain, so the
reader never pays for a decompression that saves nothing. The checksum covers the
stored body: a remote's copy is checked without decompressing it, and a damaged one
is never fed to the decompressor.
"""

from __future__ import annotations

from blake3 import blake3

from zccache.core import compression

PLAIN = b"ZC1\0"
ZSTD = b"ZC1z"
HEADER = len(PLAIN) + 32


def frame(payload: bytes, level: int | None) -> bytes:
    """payload framed; compressed at level (None: stored as it is)."""
    if level is not None:
        body = compression.compress(payload, level)
        if len(body) < len(payload):
            return ZSTD + blake3(body).digest() + body
    return PLAIN + blake3(payload).digest() + payload


def sound(raw: object) -> bool:
    """The frame is one of ours and its body matches its checksum."""
    if not isinstance(raw, bytes) or len(raw) < HEADER or raw[:4] not in (PLAIN, ZSTD):
        return False
    return blake3(memoryview(raw)[HEADER:]).digest() == raw[4:HEADER]


def payload(raw: object, checked: bool = False) -> bytes | None:
    """The msgpack bytes a frame holds; None for anything damaged. checked: the
    caller has just seen sound(raw)."""
    if not checked and not sound(raw):
        return None
    assert isinstance(raw, bytes)
    body = raw[HEADER:]
    return body if raw[:4] == PLAIN else compression.decompress(body)


def sizes(head: bytes, stored: int) -> tuple[int, int | None]:
    """(stored, original) sizes of a frame from its first HEADER + 18 bytes and its
    length: original is None when the head is not a frame of ours."""
    if head[:4] == PLAIN:
        return stored, stored - HEADER
    if head[:4] == ZSTD:
        return stored, compression.original_size(head[HEADER:])
    return stored, None


def is_compressed(raw: bytes) -> bool:
    return raw[:4] == ZSTD
