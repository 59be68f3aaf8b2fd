"""A manifest entry stored compactly (its shadow probes as a recipe, 20-byte digests)
checks exactly what the entry it was made from checks."""

from __future__ import annotations

import os
import shutil
import time

import msgpack
import pytest

from zccache.core import manifest
from zccache.core.manifest import Entry, FileHashes


def _age(path, seconds: int = 100) -> None:
    past = time.time_ns() - seconds * 1_000_000_000
    os.utime(path, ns=(past, past))


def _tree(root):
    """src/a.c including x.h (found in inc2, after inc1) and <s.h> from a system dir."""
    for d in ("src", "inc1", "inc2", "sys"):
        (root / d).mkdir(parents=True)
    (root / "src" / "a.c").write_text('#include "x.h"\n#include <s.h>\n')
    (root / "inc2" / "x.h").write_text("int x;\n")
    (root / "sys" / "s.h").write_text("int s;\n")
    for p in [*root.rglob("*"), root]:
        _age(p)


def _record(root, to_logical=lambda p: p, absent=()) -> Entry:
    started = time.time_ns()
    return manifest.record(
        cwd=str(root / "src"),
        headers=["../inc2/x.h", "../sys/s.h"],
        search_dirs=["../inc1", "../inc2", "../sys"],
        system_dirs={"../sys"},
        source_dirs=["."],  # as the engine gives them: as named, relative to the cwd
        started_ns=started,
        hashes=FileHashes(),
        result_key_of=lambda rows, env: "result",
        to_logical=to_logical,
        absent=absent,
    )


def _through_wire(entry: Entry) -> Entry:
    return Entry.from_wire(msgpack.unpackb(msgpack.packb(entry.to_wire(), use_bin_type=True), raw=False))


def _probe_paths(entry: Entry, cwd: str, to_physical=lambda p: p) -> set[str]:
    resolved = entry.resolved(cwd, to_physical)
    assert resolved is not None
    return {p for _d, _m, below in resolved.probes for p in manifest.probe_paths(below)}


def test_the_stored_recipe_gives_every_shadowing_path_and_each_one_appearing_misses(tmp_path):
    _tree(tmp_path)
    entry = _through_wire(_record(tmp_path))
    assert entry.shadow is not None and entry.probes == []
    assert all(len(bytes.fromhex(d)) == manifest.DIGEST_BYTES for _p, d, _s in entry.headers)
    cwd = str(tmp_path / "src")
    expected = {str(tmp_path / p) for p in ("inc1/x.h", "src/x.h", "inc1/s.h", "inc2/s.h")}
    assert _probe_paths(entry, cwd) == expected
    assert manifest.matches(entry, cwd, FileHashes())
    for path in sorted(expected):
        with open(path, "w") as f:
            f.write("int shadow;\n")
        assert not manifest.matches(_through_wire(entry), cwd, FileHashes()), path
        os.remove(path)


def test_a_probe_made_in_a_directory_that_settled_since_is_found_in_its_listing(tmp_path):
    """A changed group whose mtime has settled is checked against the directory's
    listing (kept per mtime), not one lexists per path."""
    _tree(tmp_path)
    entry = _through_wire(_record(tmp_path))
    cwd = str(tmp_path / "src")
    (tmp_path / "inc1" / "unrelated.h").write_text("int u;\n")
    _age(tmp_path / "inc1", 50)  # changed since the entry, and settled
    assert manifest.matches(entry, cwd, FileHashes())  # listed, and no probe is there
    (tmp_path / "inc1" / "x.h").write_text("int shadow;\n")
    _age(tmp_path / "inc1", 40)
    assert not manifest.matches(entry, cwd, FileHashes())


def test_a_candidate_present_and_unchosen_when_recorded_is_not_a_probe(tmp_path):
    _tree(tmp_path)
    (tmp_path / "inc1" / "s.h").write_text("int other;\n")  # <s.h> resolved to sys/ regardless (as by include_next)
    _age(tmp_path / "inc1")
    entry = _through_wire(_record(tmp_path))
    cwd = str(tmp_path / "src")
    assert str(tmp_path / "inc1" / "s.h") not in _probe_paths(entry, cwd)
    assert manifest.matches(entry, cwd, FileHashes())


def test_absent_paths_the_family_named_are_probes(tmp_path):
    _tree(tmp_path)
    gch = str(tmp_path / "inc2" / "x.h.gch")
    entry = _through_wire(_record(tmp_path, absent=[gch]))
    cwd = str(tmp_path / "src")
    assert gch in _probe_paths(entry, cwd)
    (tmp_path / "inc2" / "x.h.gch").write_bytes(b"gch")
    assert not manifest.matches(_through_wire(entry), cwd, FileHashes())


def test_a_relocated_tree_checks_its_own_paths(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _tree(a)
    entry = _through_wire(_record(a, to_logical=lambda p: p.replace(str(a), "\0root\0", 1) if p.startswith(str(a)) else p))
    shutil.copytree(a, b)
    for p in [*b.rglob("*"), b]:
        _age(p)

    def to_b(p: str) -> str:
        return p.replace("\0root\0", str(b), 1) if p.startswith("\0") else p

    cwd = str(b / "src")
    assert _probe_paths(entry, cwd, to_b) == {str(b / p) for p in ("inc1/x.h", "src/x.h", "inc1/s.h", "inc2/s.h")}
    assert manifest.matches(entry, cwd, FileHashes(), to_b)
    (b / "inc1" / "x.h").write_text("int shadow;\n")
    assert not manifest.matches(_through_wire(entry), cwd, FileHashes(), to_b)
    assert manifest.matches(_through_wire(entry), str(a / "src"), FileHashes(),
                            lambda p: p.replace("\0root\0", str(a), 1) if p.startswith("\0") else p)


def test_a_header_whose_content_changed_misses_against_the_shortened_digest(tmp_path):
    _tree(tmp_path)
    entry = _through_wire(_record(tmp_path))
    (tmp_path / "inc2" / "x.h").write_text("int y;\n")  # same size, a new stat signature
    assert not manifest.matches(entry, str(tmp_path / "src"), FileHashes())


@pytest.mark.parametrize("damage", ["digest", "recipe", "no cwd", "signature", "path", "groups"])
def test_a_malformed_compact_entry_is_refused(tmp_path, damage):
    """Refused with ValueError, which the engine takes as an entry to skip (a miss)."""
    _tree(tmp_path)
    wire = _record(tmp_path).to_wire()
    if damage == "digest":
        wire[0][0][1] = b"short"
    elif damage == "recipe":
        wire[1]["o"] = [1, 2]
    elif damage == "no cwd":
        del wire[1]["c"]
    elif damage == "signature":
        wire[0][0][2] = ["x", 1, 2, 3, 4]
    elif damage == "path":
        wire[0][0][0] = 7
    else:
        wire[1]["g"] = [["/d"]]
    with pytest.raises(ValueError):
        Entry.from_wire(wire)


def test_checked_from_another_checkout_the_probes_are_its_own(tmp_path):
    """A key that leaves out the cwd and names paths relatively (a link, a base dir's
    rewrite) is shared by a second checkout: the probes below what the tool was given
    relatively are looked for there, not in the checkout the entry was made in."""
    a, b = tmp_path / "a", tmp_path / "b"
    _tree(a)
    entry = _through_wire(_record(a))
    assert all(p.startswith(manifest.PLACE) for p in entry.shadow.order)
    shutil.copytree(a, b)
    for p in [*b.rglob("*"), b]:
        _age(p)
    expected = {str(b / p) for p in ("inc1/x.h", "src/x.h", "inc1/s.h", "inc2/s.h")}
    assert _probe_paths(_through_wire(entry), str(b / "src")) == expected
    assert manifest.matches(_through_wire(entry), str(b / "src"), FileHashes())
    (b / "src" / "x.h").write_text("int shadow;\n")
    assert not manifest.matches(_through_wire(entry), str(b / "src"), FileHashes())
    assert manifest.matches(_through_wire(entry), str(a / "src"), FileHashes())


def test_a_directory_given_absolutely_stays_absolute(tmp_path):
    """Its path is in the key: a hit from elsewhere searches the same directory."""
    a, b = tmp_path / "a", tmp_path / "b"
    _tree(a)
    started = time.time_ns()
    entry = _through_wire(manifest.record(
        cwd=str(a / "src"), headers=["../inc2/x.h", str(a / "sys" / "s.h")],
        search_dirs=["../inc1", "../inc2", str(a / "sys")], system_dirs={str(a / "sys")}, source_dirs=["."],
        started_ns=started, hashes=FileHashes(), result_key_of=lambda rows, env: "result"))
    shutil.copytree(a, b)
    for p in [*b.rglob("*"), b]:
        _age(p)
    assert str(a / "sys") in entry.shadow.order
    assert _probe_paths(entry, str(b / "src")) == {str(b / p) for p in ("inc1/x.h", "src/x.h", "inc1/s.h", "inc2/s.h")}


def test_a_candidate_made_during_the_compile_makes_it_uncacheable(tmp_path):
    """The compiler may or may not have seen it, and a candidate recorded as present
    is never probed: storing would keep an object the file may not have shaped."""
    _tree(tmp_path)
    started = time.time_ns()
    (tmp_path / "inc1" / "x.h").write_text("int early;\n")  # before x.h in inc2, made after the start
    with pytest.raises(manifest.Uncacheable, match="appeared during compile"):
        manifest.record(cwd=str(tmp_path / "src"), headers=["../inc2/x.h", "../sys/s.h"],
                        search_dirs=["../inc1", "../inc2", "../sys"], system_dirs={"../sys"},
                        source_dirs=[str(tmp_path / "src")], started_ns=started, hashes=FileHashes(),
                        result_key_of=lambda rows, env: "result")


@pytest.mark.parametrize("kind", ["directory", "dangling link"])
def test_a_path_before_a_header_that_is_no_file_makes_it_uncacheable(tmp_path, kind):
    """gcc passes over a directory or a dangling link named x.h in an earlier -I
    directory; once it becomes a file gcc takes it. A path present when the entry
    is made is never probed, so such a compile is not stored."""
    _tree(tmp_path)
    shadow = tmp_path / "inc1" / "x.h"
    if kind == "directory":
        shadow.mkdir()
        _age(shadow)
    else:
        shadow.symlink_to(tmp_path / "nowhere.h")
    _age(tmp_path / "inc1")
    with pytest.raises(manifest.Uncacheable, match="not a file"):
        _record(tmp_path)
