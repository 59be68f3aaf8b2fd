"""Link and archive outputs stored as zstd deltas against the files they were made from.

An archive is its members' bytes, and an executable is mostly its objects' code and
data: stored whole, a build's links took as many bytes again as its compiles (brotli's
CMake build: 1.3 MiB of links and archives beside 0.47 MiB of objects). Those inputs
are in the link's key by content, so a hit finds them on disk as they were when the
output was stored. With them as a raw-content dictionary (what ``zstd --patch-from``
does), brotli's 775 KiB encoder archive is stored in about 1.5 KB and its 888 KiB
executable in 22 KB, and decoding takes less time than plain zstd's.

A delta is only as good as the reference read back: an input rewritten between the
key and the read would decode to other bytes. The output's size and blake3 are kept
and checked after decoding; a mismatch is a miss (the tool runs), never a wrong file.
Older zccache versions find a result shaped as they do not expect and miss too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping

import blake3
import zstandard

# The reference and the output together within zstd's window: a larger link is
# stored as any other value (the dictionary would cost more time than it saves).
MAX_SPAN = 64 << 20
# A reference much larger than the output (a test program linked against a large
# static library, of which it takes a part) costs more to index than it saves:
# pynacl's tests, 2.6 MB programs against 6.5 MB of inputs, took 39 ms a delta for
# 11 % fewer bytes than plain zstd's 10 ms. Past this ratio the output is stored as
# any other value.
MAX_REFERENCE_RATIO = 2
# Level 1's match finder finds almost nothing in a dictionary of a megabyte
# (brotli's encoder archive: 344 KB at 1, 1.5 KB at 3); 3 is zstd's own default.
MIN_LEVEL = 3


def _read(path: str) -> bytes | None:
    """A regular file's bytes; b"" for an absent path or a directory (the key says
    which it was); None when it cannot be read."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return b""
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return b""
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SPAN:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def snapshot(cwd: str, paths: Iterable[str]) -> dict[str, bytes | None]:
    """The files a tool rewrites in place (ranlib's archive, ar's ``q``), as they are
    before it runs: they are part of the reference, and gone by the time it is stored."""
    return {p: _read(os.path.join(cwd, p)) for p in paths}


def reference(cwd: str, paths: Iterable[str], before: Mapping[str, bytes | None] | None = None,
              limit: int = MAX_SPAN) -> bytes | None:
    """The inputs' bytes in order (None: one cannot be read, or together they pass
    limit). Sizes are looked at before any file is read: a test program linked
    against a 6.5 MB archive is stored whole, and reading the archive for nothing
    cost each of PyNaCl's 88 such links more than its compression."""
    paths = list(paths)
    limit = min(limit, MAX_SPAN)
    total = 0
    for path in paths:
        if before is not None and path in before:
            total += len(before[path] or b"")
            continue
        try:
            total += os.stat(os.path.join(cwd, path)).st_size
        except OSError:
            continue  # _read below says what it is
        if total > limit:
            return None
    parts = []
    total = 0
    for path in paths:
        data = before[path] if before is not None and path in before else _read(os.path.join(cwd, path))
        if data is None:
            return None
        total += len(data)
        if total > limit:
            return None
        parts.append(data)
    return b"".join(parts)


def _window_log(span: int) -> int:
    return max(zstandard.WINDOWLOG_MIN, 20, span.bit_length())


def _table_log(span: int) -> int:
    """The match finder's hash and chain table sizes (log2 of entries) for a span:
    level 3's own (17 and 16) index too few places of a reference of megabytes. A
    3.8 MB extension module against its 6 MB of objects (brotli's, built by pip, with
    debug info): 1.46 MB at level 3 as it is, 0.33 MB with tables of 2^20 (70 ms
    against 40), and level 9's 0.31 MB took 270 ms."""
    return max(17, min(20, span.bit_length() - 2))


def encode(data: bytes, ref: bytes, level: int) -> dict | None:
    """The delta of data against ref, with what checks it; None when it would not
    be a tenth smaller than data itself, or the span or the reference is too large."""
    if not ref or len(ref) + len(data) > MAX_SPAN or len(ref) > MAX_REFERENCE_RATIO * len(data):
        return None
    span = len(ref) + len(data)
    level = max(level, MIN_LEVEL)
    own = zstandard.ZstdCompressionParameters.from_level(level, window_log=_window_log(span))
    params = zstandard.ZstdCompressionParameters.from_level(
        level, window_log=_window_log(span), hash_log=max(own.hash_log, _table_log(span)),
        chain_log=max(own.chain_log, _table_log(span)), write_content_size=True)
    dictionary = zstandard.ZstdCompressionDict(ref, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    delta = zstandard.ZstdCompressor(compression_params=params, dict_data=dictionary).compress(data)
    if len(delta) > len(data) * 0.9:
        return None
    return {"delta": delta, "size": len(data), "b3": blake3.blake3(data).digest()}


def decode(entry: Mapping, ref: bytes | None) -> bytes | None:
    """The output a delta entry stands for, checked; None for any mismatch."""
    delta, size, digest = entry.get("delta"), entry.get("size"), entry.get("b3")
    if ref is None or not isinstance(delta, bytes) or not isinstance(size, int) or not isinstance(digest, bytes):
        return None
    if size < 0 or len(ref) + size > MAX_SPAN:
        return None
    dictionary = zstandard.ZstdCompressionDict(ref, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    try:
        out = zstandard.ZstdDecompressor(dict_data=dictionary, max_window_size=1 << _window_log(len(ref) + size)
                                         ).decompress(delta, max_output_size=size)
    except zstandard.ZstdError:
        return None
    if len(out) != size or blake3.blake3(out).digest() != digest:
        return None
    return out
