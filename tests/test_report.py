"""The HTML report, opened in a real headless browser (Debian's chromium): the numbers
the page shows (its script builds them from the data it carries) are the journal's."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from support import BIN, DEMO, need

pytestmark = pytest.mark.parametrize("zc", ["native"], indirect=True)


def browse(url: str) -> str:
    """The page's DOM after its scripts ran, as chromium renders it headless."""
    chromium = need("chromium", "chromium")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.decode()


def cells(dom: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="t-{table}"[^>]*>(.*?)</table>', dom, re.S).group(1)
    body = body.split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_report_in_a_headless_browser_shows_the_journals_numbers(zc, tmp_path):
    cmake = shutil.which("cmake", path=BIN) or "cmake"
    source = tmp_path / "src"
    shutil.copytree(DEMO, source)
    journal = tmp_path / "build.jsonl"
    started = zc.run("session-start", "--journal", str(journal), cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    session = re.search(rb"ZCCACHE_SESSION_ID=(\S+)", started.stdout).group(1).decode().strip("'\"")
    env = {**zc.env, "ZCCACHE_SESSION_ID": session}
    launch = [f"-DCMAKE_{lang}_COMPILER_LAUNCHER={zc.command}" for lang in ("C", "CXX")]
    for build in ("b1", "b2"):
        if build == "b2":  # misses with a reason: the header ten sources include
            config = source / "mathlib" / "include" / "mathlib" / "config.h"
            config.write_text(config.read_text().replace("MATHLIB_SCALE 3", "MATHLIB_SCALE 5"))
        assert subprocess.run([cmake, "-G", "Ninja", "-S", str(source), "-B", str(tmp_path / build), *launch],
                              env=env, capture_output=True).returncode == 0
        assert subprocess.run([cmake, "--build", str(tmp_path / build), "-j", "2"], env=env,
                              capture_output=True).returncode == 0
    assert zc.run("session-end", session, cwd=tmp_path, env={"ZCCACHE_SESSION_ID": session}).returncode == 0
    report = tmp_path / "report.html"
    done = zc.run("analyze", str(journal), "--html", str(report), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not re.search(r'(src|href)="(https?:)?//', report.read_text())  # nothing fetched at view time

    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    results = Counter(r["result"] for r in rows)
    assert all(r["duration_ms"] > 0 for r in rows)  # hits are timed too (they were 0: no bar on the timeline)
    dom = browse(report.as_uri() + "#sort=dirs:hits:desc")
    shown = dict(re.findall(r'<b id="n-(\w+)">([^<]*)</b>', dom))
    assert shown["compiles"] == str(len(rows))
    assert (shown["hit"], shown["miss"]) == (str(results["hit"]), str(results["miss"]))
    assert results["hit"] >= 16 and results["miss"] >= 26 + 10
    assert float(shown["hit_rate"]) == round(100 * results["hit"] / (results["hit"] + results["miss"]), 1)
    # per directory: every directory of the journal, sorted as the address asked
    dirs = cells(dom, "dirs")
    compile_rows = [r for r in rows if r["family"] == "gcc"]  # links and archives are rows of their own kind
    by_dir = Counter(os.path.dirname(r["source"]) for r in compile_rows if r["source"])
    assert {d[0] for d in dirs} >= set(by_dir)
    hits_column = [int(d[2]) for d in dirs]
    assert hits_column == sorted(hits_column, reverse=True)
    for name, compiles, hits, misses, *_ in dirs:
        if name in by_dir:
            assert int(compiles) == by_dir[name]
            assert int(hits) == sum(r["result"] == "hit" for r in compile_rows
                                    if r["source"] and os.path.dirname(r["source"]) == name)
    assert not any(d[0].endswith(("b1", "b2")) or "(no source)" in d[0] for d in dirs)  # no .o as a "source"
    # why the edited build missed: the header, named
    misses = cells(dom, "misses")
    assert misses and all(len(m) == 4 for m in misses)  # ms, kind, what, why
    reasons = {r[0]: int(r[1]) for r in cells(dom, "reasons")}
    assert reasons.get("miss: a header changed") == 10
    assert sum((r.get("why") or "").endswith("mathlib/config.h changed") for r in rows) == 10
    assert "<svg" in dom and dom.count("<svg") >= 2  # the timeline and the hit rate, inline


def test_report_errors_are_one_line_about_what_the_user_gave(zc, tmp_path):
    journal = tmp_path / "j.jsonl"
    journal.write_text(json.dumps({"ts": 1.0, "duration_ms": 2.0, "result": "hit", "family": "gcc",
                                   "source": str(tmp_path / "a.c")}) + "\n")
    target = tmp_path / "no-such-dir" / "r.html"
    done = zc.run("analyze", str(journal), "--html", str(target), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.decode() == f"zccache: cannot write {target}: No such file or directory\n"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    done = zc.run("analyze", str(empty), cwd=tmp_path)
    assert done.returncode == 1 and b"ZCCACHE_SESSION_ID" in done.stderr and done.stdout == b""
    fake = tmp_path / "no-matplotlib"
    fake.mkdir()
    (fake / "matplotlib.py").write_text("raise ImportError('no matplotlib here')\n")
    done = zc.run("analyze", str(journal), "--html", str(tmp_path / "r.html"), cwd=tmp_path,
                  env={"PYTHONPATH": str(fake)})
    assert done.returncode == 1 and done.stdout == b""  # said before any work, not after the text report
    assert done.stderr == b"zccache: the HTML report draws its plots with matplotlib: pip install 'pyzccache[report]'\n"


def test_a_miss_in_a_fresh_build_dir_names_what_differs(zc, tmp_path):
    """No record for the output in a new build dir: the same source's last build is
    the nearest, so an added option is named. A first ranlib of an archive is new to
    ranlib, not "the compiler changed"."""
    journal = tmp_path / "j.jsonl"
    started = zc.run("session-start", "--journal", str(journal), cwd=tmp_path)
    session = re.search(rb"ZCCACHE_SESSION_ID=(\S+)", started.stdout).group(1).decode().strip("'\"")
    env = {"ZCCACHE_SESSION_ID": session}
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.c").write_text("int a(void) { return A; }\n")
    for build, define in (("b1", "-DA=1"), ("b2", "-DA=2")):
        (tmp_path / build).mkdir()
        done = zc.run("gcc", define, "-c", str(src / "a.c"), "-o", "a.o", cwd=tmp_path / build, env=env)
        assert done.returncode == 0, done.stderr
    for cmd in (["ar", "rcs", "libx.a", "a.o"], ["ranlib", "libx.a"]):
        assert zc.run(*cmd, cwd=tmp_path / "b2", env=env).returncode == 0
    zc.run("session-end", session, cwd=tmp_path)
    whys = [json.loads(line).get("why") for line in journal.read_text().splitlines()]
    assert whys == ["nothing cached for this output yet", "argument -DA=1 is now -DA=2",
                    "nothing cached for this output yet", "nothing cached for this output yet"], whys
