"""A delta decodes to its output only against the very reference it was made with."""

from __future__ import annotations

import os
import random

from zccache.core import deltas


def test_a_delta_round_trips_and_is_small_against_its_inputs():
    ref = os.urandom(300_000)
    out = b"!<arch>\n" + ref[1000:200_000] + b"header" + ref[:1000]
    entry = deltas.encode(out, ref, 1)
    assert entry is not None and len(entry["delta"]) < 2000
    assert deltas.decode(entry, ref) == out


def test_any_other_reference_or_damage_is_none_never_other_bytes():
    ref = os.urandom(100_000)
    out = ref[::-1][:50_000] + ref[:50_000]
    entry = deltas.encode(out, ref, 3)
    assert entry is not None
    changed = bytearray(ref)
    changed[10] ^= 1
    assert deltas.decode(entry, bytes(changed)) is None
    assert deltas.decode(entry, ref[:-1]) is None
    assert deltas.decode(entry, None) is None
    assert deltas.decode({**entry, "delta": entry["delta"][:-3]}, ref) is None
    assert deltas.decode({**entry, "size": entry["size"] + 1}, ref) is None
    assert deltas.decode({**entry, "b3": b"\0" * 32}, ref) is None
    assert deltas.decode({"delta": "text", "size": 1, "b3": b""}, ref) is None


def test_nothing_to_gain_or_too_large_is_stored_whole():
    assert deltas.encode(os.urandom(10_000), os.urandom(10_000), 1) is None  # unrelated
    assert deltas.encode(b"x" * 100, b"", 1) is None
    assert deltas.encode(b"x", b"\0" * (deltas.MAX_SPAN + 1), 1) is None
    part = os.urandom(30_000)
    assert deltas.encode(part, part + os.urandom(70_000), 1) is None  # a small part of a large reference


def test_the_reference_reads_files_in_order_and_takes_a_snapshot_first(tmp_path):
    (tmp_path / "a").write_bytes(b"one")
    (tmp_path / "b").write_bytes(b"two")
    (tmp_path / "d").mkdir()
    assert deltas.reference(str(tmp_path), ["b", "a", "d", "absent"]) == b"twoone"
    before = deltas.snapshot(str(tmp_path), ["a"])
    (tmp_path / "a").write_bytes(b"rewritten")
    assert deltas.reference(str(tmp_path), ["a", "b"], before) == b"onetwo"


def test_a_reference_past_its_limit_is_none(tmp_path):
    (tmp_path / "small").write_bytes(b"s" * 10)
    (tmp_path / "large").write_bytes(b"l" * 1000)
    assert deltas.reference(str(tmp_path), ["small", "large"], limit=500) is None
    assert deltas.reference(str(tmp_path), ["small", "large"], limit=2000) == b"s" * 10 + b"l" * 1000
    assert deltas.reference(str(tmp_path), ["small"], {"small": b"x" * 600}, limit=500) is None


def test_short_pieces_of_a_reference_of_megabytes_are_found():
    """An output made of short runs from all over a large reference (a linked
    module's debug sections against its objects'): the match finder's tables must
    index the whole reference, not the last of it."""
    rng = random.Random(5)
    ref = rng.randbytes(4 << 20)
    out = b"".join(ref[o : o + 48] + b"\x01\x02" for o in (rng.randrange(0, len(ref) - 48) for _ in range(45000)))
    entry = deltas.encode(out, ref, 1)
    assert entry is not None and len(entry["delta"]) < len(out) // 8
    assert deltas.decode(entry, ref) == out
