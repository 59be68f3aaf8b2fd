"""The report's figures from journal rows, without a browser: time runs forward,
links are links."""

from __future__ import annotations

import json

import pytest

from zccache.core.analyze import AnalyzeError, analyze, read_journal
from zccache.core.report_html import figures, hit_rate_points


def journal(tmp_path, lines: list[dict]):
    path = tmp_path / "j.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def line(ts: float, ms: float, result: str, family: str | None = "gcc", source: str = "/s/a.c",
         output: str = "a.o", why: str = "") -> dict:
    return {"ts": ts, "duration_ms": ms, "result": result, "family": family, "source": source, "output": output,
            "why": why, "reason": "miss" if result == "miss" else ""}


def test_the_hit_rate_line_runs_forward_in_time(tmp_path):
    # a long miss that started first and ended last, short hits in between
    rows, _ = read_journal(journal(tmp_path, [line(10.0, 9000, "miss"), line(2.0, 10, "hit"), line(3.0, 10, "hit"),
                                              line(4.0, 10, "miss")]))
    points = hit_rate_points(rows)
    xs = [x for x, _ in points]
    assert xs == sorted(xs) and len(points) == 4
    assert [round(y) for _, y in points] == [100, 100, 67, 50]


def test_links_archives_and_exec_runs_are_their_own_kind(tmp_path):
    path = journal(tmp_path, [line(1, 5, "miss", why="nothing cached for this output yet"),
                              line(2, 5, "miss", "link", "/b/a.o", "app"),
                              line(3, 5, "hit", "archive", "/b/a.o", "libx.a"),
                              line(4, 5, "passthrough", None, "", "")])
    rows, _ = read_journal(path)
    assert [r.kind for r in rows] == ["compile", "link", "link", "passthrough"]
    assert [r.name for r in rows] == ["/s/a.c", "app", "libx.a", "(passthrough)"]
    data = figures(rows, 0)
    assert [d["directory"] for d in data["directories"]] == ["/s"]  # a link's .o is no source
    assert data["kinds"] == {"compile": 1, "link": 2, "exec": 0, "passthrough": 1}
    report = analyze(str(path))
    assert report.reasons["miss: nothing cached for the output yet"] == 1  # the reason, not only "miss: direct"


def test_an_empty_journal_says_what_was_likely_forgotten(tmp_path):
    with pytest.raises(AnalyzeError, match="ZCCACHE_SESSION_ID"):
        analyze(str(journal(tmp_path, [])))
