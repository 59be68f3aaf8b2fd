"""A smoke run of the benchmark suite (one workload, two tools), so that it keeps
working; it asserts that the table is produced, never a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import ROOT, ZCCACHE


def test_benchmark_smoke_run(tmp_path):
    installed = os.path.dirname(ZCCACHE)  # this suite's own install, not a venv of the benchmark's to build
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--tools", "none,zccache,zccache-py",
                           "--workloads", "micro", "--runs", "3", "--results", str(tmp_path), "--installed", installed],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| zccache |" in done.stdout and "| zccache-py |" in done.stdout and "bare floor" in done.stdout and "console-script floor" in done.stdout
    results = json.loads(next(tmp_path.glob("*.json")).read_text())
    micro = results["workloads"]["micro"]
    for name in ("zccache", "zccache-py"):
        row = micro["tools"][name]
        assert row["hit_median_s"] > 0 and row["miss_median_s"] > 0
    assert micro["python_floor_bare_s"] > 0 and micro["hit_over_floor_site"] > 0
