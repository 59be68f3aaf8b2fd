"""What a tool says about itself is asked once per tool, not once per process: kept
in the store, a new daemon (and the in-process path) answers from it."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from support import BIN, ZCCACHE_PY, need, write
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


def library_and_program(source: Path, main: str) -> Path:
    """A CMake project: a static library in C, and a program (main.c or main.cpp) on it."""
    languages = "C CXX" if main.endswith(".cpp") else "C"
    write(source / "CMakeLists.txt", f"cmake_minimum_required(VERSION 3.19)\nproject(p {languages})\n"
          f"add_library(m STATIC m.c)\nadd_executable(app {main})\ntarget_link_libraries(app m)\n")
    write(source / "m.c", "int m(void) { return 4; }\n")
    c_linkage = 'extern "C" ' if main.endswith(".cpp") else ""
    write(source / main, f"{c_linkage}int m(void);\nint main(void) {{ return m() - 4; }}\n")
    return source


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
    source = library_and_program(tmp_path / "src", "main.cpp")
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


def warmed(zc, tmp_path: Path, seconds: float = 60) -> dict:
    """The daemon's status once no Warm request is being asked any more."""
    deadline = time.monotonic() + seconds
    while True:
        done = zc.run("status", "--json", cwd=tmp_path)
        status = json.loads(done.stdout) if done.returncode == 0 else {}
        if status.get("running") and status.get("warming") == 0 and status.get("warmed"):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def test_start_warm_asks_the_tool_before_the_first_compile(zc, tmp_path):
    """`zccache start --warm CC`: the daemon asks the compiler about itself (as a
    link and an archive would, too) before any compile; the first compile then runs
    the compiler once, for itself, and what was asked is kept for the next daemon."""
    cc, log = wrapper(tmp_path)
    write(tmp_path / "s.c", "int s(void) { return 1; }\n")
    done = zc.run("start", "--warm", str(cc), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert b"warming 1 tool" in done.stdout
    assert warmed(zc, tmp_path)["warmed"] >= 2  # as a compiler, and as the driver of a link
    asked = runs(log)
    assert asked and not any(" -c " in f" {line} " and line.endswith(".c") for line in asked)  # asked, compiled nothing
    log.unlink()
    assert zc.run(str(cc), "-c", "s.c", "-o", "s.o", cwd=tmp_path).returncode == 0
    # the compile (with the depfiles it is asked for), and the include search list its
    # record needs, which depends on the compile's own -I and directory
    assert [line.split(" -MD ")[0] for line in runs(log)] == ["-c s.c -o s.o", "-x c -E -v /dev/null"]
    assert zc.stats()["misses"] == 1
    # refused as a compile's tool would be; a bad word in the background form says so
    assert zc.run("start", "--warm", "no-such-compiler-here", cwd=tmp_path).returncode == 1
    for client in (ZCCACHE_PY, zc.command):  # the native launcher leaves a bad form to the Python client
        for words in (["--bogus"], ["--warm"], ["--warm", str(cc), "-x"]):
            bad = subprocess.run([client, "start", "--background", *words], env=zc.env, capture_output=True)
            assert bad.returncode == 2 and b"--warm TOOL" in bad.stderr, (client, words)


def test_cmake_configure_warms_the_daemon(zc, tmp_path):
    """zccache.cmake starts the daemon while CMake configures and has it ask the
    compiler and archiver CMake found: the build then runs the compiler for the
    project's compiles, its link and the compiles' include search list, never to
    ask it what it is."""
    cc, log = wrapper(tmp_path)
    cmake = shutil.which("cmake", path=BIN) or "cmake"
    source = library_and_program(tmp_path / "src", "main.c")
    module = zc.run("cmake-module-dir", cwd=tmp_path).stdout.decode().strip() + "/zccache.cmake"
    configured = subprocess.run([cmake, "-G", "Ninja", "-S", str(source), "-B", str(tmp_path / "b"),
                                 f"-DCMAKE_C_COMPILER={cc}", f"-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES={module}",
                                 f"-DZCCACHE_PROGRAM={zc.command}"], env=zc.env, capture_output=True)
    assert configured.returncode == 0, configured.stderr[-2000:]
    assert warmed(zc, tmp_path)["warmed"] >= 3  # the compiler as such, as a link driver; the archiver
    log.unlink()
    built = subprocess.run([cmake, "--build", str(tmp_path / "b")], env=zc.env, capture_output=True)
    assert built.returncode == 0, built.stderr[-2000:]
    lines = runs(log)
    compiles = [line for line in lines if f" -c {source / 'm.c'}" in line or f" -c {source / 'main.c'}" in line]
    links = [line for line in lines if "-o app libm.a" in line]
    searches = [line for line in lines if line.endswith("-x c -E -v /dev/null")]
    assert len(compiles) == 2 and len(links) == 1 and searches and len(lines) == 3 + len(searches), lines
    # ZCCACHE_WARM=OFF: no warming, the build's first compile asks (configure alone starts no daemon)
    assert zc.run("stop", cwd=tmp_path).returncode == 0
    configured = subprocess.run([cmake, "-G", "Ninja", "-S", str(source), "-B", str(tmp_path / "off"),
                                 f"-DCMAKE_C_COMPILER={cc}", f"-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES={module}",
                                 f"-DZCCACHE_PROGRAM={zc.command}", "-DZCCACHE_WARM=OFF"], env=zc.env,
                                capture_output=True)
    assert configured.returncode == 0, configured.stderr[-2000:]
    time.sleep(1)
    assert json.loads(zc.run("status", "--json", cwd=tmp_path).stdout) == {"running": False}
    assert zc.stats()["misses"] == 2


def test_cmake_warms_the_daemon_as_soon_as_project_has_found_the_compilers(zc, tmp_path):
    """Not only at the end of configure: the rest of it runs while the daemon asks
    (a build started right after configure waited for those questions). A configure
    that stops after project() has warmed the daemon all the same."""
    cc, log = wrapper(tmp_path)
    cmake = shutil.which("cmake", path=BIN) or "cmake"
    source = library_and_program(tmp_path / "src", "main.c")
    lists = source / "CMakeLists.txt"
    lists.write_text(lists.read_text().replace("add_library", 'message(FATAL_ERROR "stopped after project()")\nadd_library', 1))
    module = zc.run("cmake-module-dir", cwd=tmp_path).stdout.decode().strip() + "/zccache.cmake"
    configured = subprocess.run([cmake, "-G", "Ninja", "-S", str(source), "-B", str(tmp_path / "b"),
                                 f"-DCMAKE_C_COMPILER={cc}", f"-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES={module}",
                                 f"-DZCCACHE_PROGRAM={zc.command}"], env=zc.env, capture_output=True)
    assert configured.returncode != 0 and b"stopped after project()" in configured.stderr
    assert warmed(zc, tmp_path)["warmed"] >= 3  # the compiler as such, as a link driver; the archiver
