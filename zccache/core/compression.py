"""zstd for the store's values, through python-zstandard.

python-zstandard (the ``zstandard`` package) rather than pyzstd: it is the binding
most of the ecosystem already installs (urllib3's and pip's optional zstd), it ships
wheels for every platform pip does, releases the GIL while it works (the daemon's
worker threads compress side by side, and ``zccache -X`` uses every core), and it
reads a frame's content size from its header without decompressing, which is what
``zccache -x`` needs to report original sizes without reading every value twice.

Levels are ccache's: 0 is the default level (1, as ccache picks), negative levels
are faster, higher ones smaller (up to 22). Compressor and decompressor objects are
not thread-safe: each thread keeps its own.
"""

from __future__ import annotations

import threading

import zstandard

DEFAULT_LEVEL = 1  # what ccache's compression_level = 0 means
MIN_LEVEL, MAX_LEVEL = -131072, 22
MAX_ORIGINAL = 4 << 30  # a frame claiming more is refused, not allocated
_FRAME_MAGIC = b"\x28\xb5\x2f\xfd"
_local = threading.local()


def effective(level: int) -> int:
    return DEFAULT_LEVEL if level == 0 else level


def compress(data: bytes, level: int) -> bytes:
    compressors = getattr(_local, "compressors", None)
    if compressors is None:
        compressors = _local.compressors = {}
    c = compressors.get(level)
    if c is None:
        c = compressors[level] = zstandard.ZstdCompressor(level=effective(level), write_content_size=True)
    return c.compress(data)


def original_size(data: bytes) -> int | None:
    """The size a frame says it decompresses to (None: not a frame, or it does not say)."""
    if not data.startswith(_FRAME_MAGIC):
        return None
    try:
        size = zstandard.frame_content_size(data[:18])
    except zstandard.ZstdError:
        return None
    return size if size >= 0 else None


def decompress(data: bytes) -> bytes | None:
    """The original bytes; None for anything that is not one whole, sane frame."""
    size = original_size(data)
    if size is None or size > MAX_ORIGINAL:
        return None
    d = getattr(_local, "decompressor", None)
    if d is None:
        d = _local.decompressor = zstandard.ZstdDecompressor()
    try:
        out = d.decompress(data, max_output_size=size)
    except zstandard.ZstdError:
        return None
    return out if len(out) == size else None
