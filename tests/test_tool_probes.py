"""What a tool says about itself is asked once per tool, not once per process: kept
in the store, a new daemon (and the in-process path) answers from it."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from support import BIN, need, write
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


def test_bear_records_exactly_the_projects_compiles(zc, tmp_path):
    """Bear (Debian's) around a CMake build through zccache: the cold build's
    compile_commands.json lists the project's compiles and no probe; after
    `zccache stop`, a fresh build dir is all hits and runs no compiler at all."""
    bear = need("bear", "bear")
    cmake = shutil.which("cmake", path=BIN) or "cmake"
    source = tmp_path / "src"
    write(source / "CMakeLists.txt", "cmake_minimum_required(VERSION 3.16)\nproject(p C CXX)\n"
          "add_library(m STATIC m.c)\nadd_executable(app main.cpp)\ntarget_link_libraries(app m)\n")
    write(source / "m.c", "int m(void) { return 4; }\n")
    write(source / "main.cpp", "extern \"C\" int m(void);\nint main() { return m() - 4; }\n")
    launch = [f"-DCMAKE_{lang}_COMPILER_LAUNCHER={zc.command}" for lang in ("C", "CXX")]
    env = {**zc.env}
    recorded = {}
    for build in ("b1", "b2"):
        if build == "b2":
            assert zc.run("stop", cwd=tmp_path).returncode == 0
            zc.zero()
        assert subprocess.run([cmake, "-G", "Ninja", "-S", str(source), "-B", str(tmp_path / build), *launch],
                              env=env, capture_output=True).returncode == 0
        out = tmp_path / f"{build}.json"
        done = subprocess.run([bear, "--output", str(out), "--", cmake, "--build", str(tmp_path / build), "-j", "2"],
                              env=env, capture_output=True)
        assert done.returncode == 0, done.stderr[-2000:]
        recorded[build] = json.loads(out.read_text())
    sources = sorted(str(p) for p in source.rglob("*") if p.suffix in (".c", ".cpp"))
    assert sorted(entry["file"] for entry in recorded["b1"]) == sources  # each once, and nothing else
    assert recorded["b2"] == []  # no compiler ran, not even to be asked what it is
    assert zc.stats()["hits"] == len(sources)
