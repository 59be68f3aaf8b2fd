"""A short soak (benchmarks/soak.py): 60 generated units built five times against one
daemon, with edits between the rounds; every object compared with a plain build's,
the daemon's descriptors and threads not growing, its memory within bounds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import soak  # noqa: E402

UNITS = 60


@pytest.mark.parametrize("zc", ["native"], indirect=True)
def test_short_soak(zc, tmp_path, monkeypatch):
    for name, value in zc.env.items():
        monkeypatch.setenv(name, value)
    result = soak.run(UNITS, 5, 4, zc.command, tmp_path)
    rounds = result["rounds"]
    assert [r["objects_differing"] for r in rounds] == [[]] * 5
    assert all(r["objects_checked"] == UNITS for r in rounds)
    tree = tmp_path / "tree"
    shadowed = sum(1 for p in (tree / "mod001").glob("u*.c*") if '"hub3.h"' in p.read_text())
    assert shadowed > 0
    assert [(r["misses"], r["hits"]) for r in rounds] == [
        (UNITS, 0),  # cold
        (50, UNITS - 50),  # mod000's local.h: its 50 units
        (UNITS // 20, UNITS - UNITS // 20),  # 5 % of the sources
        (shadowed, UNITS - shadowed),  # mod001/hub3.h now shadows include/hub3.h for mod001's users
        (UNITS, 0),  # project.h
    ]
    # no descriptor or thread leak from round to round: a leak grows with the 100
    # compiles of a round. What does grow is bounded by the threads: each worker that
    # first touches the store or the counters opens its SQLite connection there (the
    # database and its WAL: two descriptors), which a run saw take 29 -> 35 in three
    # rounds with the threads unchanged
    assert rounds[-1]["fds"] <= rounds[1]["fds"] + 12
    assert rounds[-1]["threads"] <= rounds[1]["threads"] + 4
    assert max(r["rss_mb"] for r in rounds) < 256
