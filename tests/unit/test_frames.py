"""The store's frames, read directly: every format read back, damage refused."""

from __future__ import annotations

import os

import pytest
import zstandard

from zccache.core import compression, frames

TEXT = b"int f(void) { return 1; }\n" * 200


@pytest.mark.parametrize("level", [None, 0, 1, -5, 19])
def test_a_frame_gives_back_what_went_in(level):
    raw = frames.frame(TEXT, level)
    assert frames.sound(raw) and frames.payload(raw) == TEXT
    assert frames.is_compressed(raw) == (level is not None)
    stored, original = frames.sizes(raw[: frames.HEADER + 18], len(raw))
    assert (stored, original) == (len(raw), len(TEXT))


def test_what_does_not_shrink_is_stored_plain():
    noise = os.urandom(4096)
    raw = frames.frame(noise, 1)
    assert not frames.is_compressed(raw) and frames.payload(raw) == noise


def test_the_frames_of_before_compression_are_read():
    from blake3 import blake3

    old = b"ZC1\0" + blake3(TEXT).digest() + TEXT  # what every entry was before
    assert frames.payload(old) == TEXT


def test_damage_is_refused_before_decompression():
    raw = bytearray(frames.frame(TEXT, 1))
    raw[-3] ^= 0xFF
    assert not frames.sound(bytes(raw)) and frames.payload(bytes(raw)) is None
    assert frames.payload(b"ZC1z" + b"\0" * 40) is None and frames.payload(b"garbage") is None


def test_a_frame_that_claims_a_huge_original_is_not_allocated():
    from blake3 import blake3

    # a valid checksum over a zstd frame whose header promises 64 GiB
    body = zstandard.ZstdCompressor().compress(b"x" * 100)
    header = bytearray(body[:4]) + bytes([0xE0]) + (64 << 30).to_bytes(8, "little")  # FHD: 8-byte content size
    bomb = bytes(header) + body[6:]
    raw = b"ZC1z" + blake3(bomb).digest() + bomb
    assert compression.original_size(bomb) == 64 << 30  # what the guard reads, and refuses
    assert frames.payload(raw) is None
