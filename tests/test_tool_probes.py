"""What a tool says about itself is asked once per tool, not once per process: kept
in the store, a new daemon (and the in-process path) answers from it."""

from __future__ import annotations

import time
from pathlib import Path

from support import write
from zccache.core.hashing import RACY_SECONDS


def wrapper(tmp_path: Path) -> tuple[Path, Path]:
    """A compiler that logs each run (as a build recorder or a wrapper's log would)."""
    log = tmp_path / "runs.log"
    cc = tmp_path / "bin" / "mycc"
    cc.parent.mkdir()
    cc.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec gcc "$@"\n')
    cc.chmod(0o755)
    time.sleep(RACY_SECONDS + 0.1)  # settled, as an installed compiler is
    return cc, log


def runs(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_a_new_daemon_asks_no_tool_it_has_seen(zc, tmp_path):
    cc, log = wrapper(tmp_path)
    for i in range(3):
        write(tmp_path / f"s{i}.c", f"int f{i}(void) {{ return {i}; }}\n")

    def build(env=None) -> None:
        for i in range(3):
            done = zc.run(str(cc), "-c", f"s{i}.c", "-o", f"s{i}.o", cwd=tmp_path, env=env)
            assert done.returncode == 0, done.stderr

    build()
    cold = runs(log)
    assert sum(line.startswith("-c s") for line in cold) == 3 and len(cold) > 3  # the compiles, and the probes
    assert not any(line.endswith((".s", ".c")) and "zccache-probe" in line for line in cold)  # no probe compiles
    for env in (None, {"ZCCACHE_DAEMON": "0"}):  # a new daemon; then no daemon at all
        assert zc.run("stop", cwd=tmp_path).returncode == 0
        log.unlink(missing_ok=True)
        build(env)
        assert runs(log) == [], runs(log)
    assert zc.stats()["hits"] == 6
    # a changed tool is a new tool: asked again
    cc.write_text(cc.read_text() + "# changed\n")
    build()
    assert len(runs(log)) > 0
