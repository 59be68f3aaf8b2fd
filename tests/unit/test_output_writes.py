"""How a hit writes an output (engine._write_atomic): whole or not at all, with the
compiler's mode, over an old file or a link without touching what the link names,
and no file of ours left beside it. Both ways it can take: a nameless file given its
name (Linux's O_TMPFILE), and a temporary name renamed into place where that is not
available (forced here by taking O_TMPFILE away)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from zccache.core import engine


@pytest.fixture(params=["unnamed", "renamed"])
def way(request, monkeypatch):
    if request.param == "renamed":
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    elif not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE here")
    return request.param


def test_a_new_output_has_the_bytes_and_the_mode_the_umask_gives(tmp_path: Path, way):
    target = tmp_path / "a.o"
    engine._write_atomic(str(target), b"\x7fELF object", umask=0o027)
    assert target.read_bytes() == b"\x7fELF object"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    engine._write_atomic(str(tmp_path / "app"), b"binary", umask=0o022, executable=True)
    assert stat.S_IMODE((tmp_path / "app").stat().st_mode) == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.o", "app"]


def test_an_old_output_is_replaced_and_a_link_is_replaced_not_followed(tmp_path: Path, way):
    old = tmp_path / "a.o"
    old.write_bytes(b"old object, longer than the new one")
    engine._write_atomic(str(old), b"new", umask=0o022)
    assert old.read_bytes() == b"new"
    elsewhere = tmp_path / "elsewhere.o"
    elsewhere.write_bytes(b"not ours")
    link = tmp_path / "b.o"
    link.symlink_to(elsewhere)
    engine._write_atomic(str(link), b"restored", umask=0o022)
    assert not link.is_symlink() and link.read_bytes() == b"restored"
    assert elsewhere.read_bytes() == b"not ours"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.o", "b.o", "elsewhere.o"]


def test_a_missing_directory_or_a_directory_in_the_way_raises_and_leaves_nothing(tmp_path: Path, way):
    with pytest.raises(OSError):
        engine._write_atomic(str(tmp_path / "missing" / "a.o"), b"x")
    (tmp_path / "a.o").mkdir()
    with pytest.raises(OSError):
        engine._write_atomic(str(tmp_path / "a.o"), b"x")
    assert (tmp_path / "a.o").is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["a.o"]
