"""Any gcc- or clang-like compiler, whatever its name: wrappers (the shape of mpicc,
conda's and Nix's compilers) and clang itself, through the CLI, CMake and SCons."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from zccache.core.hashing import RACY_SECONDS
from support import DEMO, compiler_pair, need, no_traceback, write
from support.builds import CMAKE, EXPECTED_OUTPUT, SCONS, SCONS_DEMO, TRANSLATION_UNITS, configure_and_build, launchers
from support.builds import EXPECTED as SCONS_EXPECTED
from support.builds import UNITS as SCONS_UNITS
from support.builds import program_output, run_app, scons


def script(path: Path, text: str) -> Path:
    write(path, text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC | stat.S_IXGRP | stat.S_IXOTH)
    return path


def wrappers(where: Path, family: str) -> tuple[str, str]:
    """my-cc and my-c++: two-line shell scripts that exec the real compilers."""
    cc, cxx = compiler_pair(family)
    my_cc = script(where / "my-cc", f'#!/bin/sh\nexec {shutil.which(cc)} "$@"\n')
    my_cxx = script(where / "my-c++", f'#!/bin/sh\nexec {shutil.which(cxx)} "$@"\n')
    return str(my_cc), str(my_cxx)


def compilers(tmp_path: Path, family: str, kind: str) -> tuple[str, str]:
    if kind == "wrapper":
        return wrappers(tmp_path / "bin", family)
    cc, cxx = compiler_pair(family)
    return shutil.which(cc), shutil.which(cxx)


@pytest.mark.parametrize("zc", ["native", "python", "in-process"], indirect=True)
@pytest.mark.parametrize("family", ["gcc", "clang"])
def test_wrapper_of_any_name_is_cached_and_exact(zc, tmp_path, family):
    my_cc, my_cxx = wrappers(tmp_path / "bin", family)
    write(tmp_path / "util.h", "#define UTIL 7\n")
    write(tmp_path / "a.c", '#include <stdio.h>\n#include "util.h"\nint a(void) { return printf("%d", UTIL); }\n')
    write(tmp_path / "b.cpp", "#include <vector>\nint b() { std::vector<int> v{1, 2}; return (int)v.size(); }\n")
    for compiler, source, obj in ((my_cc, "a.c", "a.o"), (my_cxx, "b.cpp", "b.o")):
        args = ["-O2", "-Wall", "-c", source, "-o", obj]
        plain = zc.plain(compiler, *args, cwd=tmp_path)
        assert plain.returncode == 0, plain.stderr
        expected = (tmp_path / obj).read_bytes()
        for _ in range(2):
            (tmp_path / obj).unlink()
            done = zc.run(compiler, *args, cwd=tmp_path)
            no_traceback(done)
            assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
            assert (tmp_path / obj).read_bytes() == expected
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (2, 2)
    assert stats["uncacheable_total"] == 0


@pytest.mark.parametrize("zc", ["native", "python", "in-process"], indirect=True)
def test_a_tool_that_is_no_compiler_runs_untouched(zc, tmp_path):
    """A command line that looks like a compile, of a tool that is not a compiler: it
    runs as it is (its output and exit code its own), counted. The tool is asked what
    it is (an empty preprocess) once: the answer is kept in the store, so another
    process (or daemon) does not ask again; a command line that is no compile is
    never asked about."""
    log = tmp_path / "ran.log"
    tool = script(tmp_path / "bin" / "fmt-tool", f'#!/bin/sh\necho "$@" >> {log}\necho formatted\nexit 3\n')
    write(tmp_path / "a.c", "int a;\n")
    time.sleep(RACY_SECONDS + 0.1)  # a file changed within this window is asked again: it may still change
    for _ in range(2):
        done = zc.run(str(tool), "-c", "a.c", "-o", "a.o", cwd=tmp_path)
        no_traceback(done)
        assert (done.returncode, done.stdout, done.stderr) == (3, b"formatted\n", b"")
    done = zc.run(str(tool), "--check", "a.c", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (3, b"formatted\n")
    calls = log.read_text().splitlines()
    assert sorted(calls) == sorted(["-c a.c -o a.o"] * 2 + ["--check a.c"] + ["-E -dM -x c /dev/null"])
    stats = zc.stats()
    assert stats["hits"] == stats["misses"] == 0
    assert stats["uncacheable"] == {"unsupported tool": 3}


def test_compiler_changed_behind_a_wrapper_misses(zc, tmp_path):
    """The wrapper's bytes stay the same; the compiler it runs changes. The compiler is
    one of the programs the probe found (clang runs itself as -cc1), so its new
    content is a new identity."""
    clang = os.path.realpath(need("clang", "clang"))
    inner = tmp_path / "toolchain" / "clang"
    inner.parent.mkdir()
    shutil.copy2(clang, inner)
    my_cc = script(tmp_path / "bin" / "my-cc", f'#!/bin/sh\nexec {inner} "$@"\n')
    write(tmp_path / "a.c", "int a(void) { return 42; }\n")  # no system header: the copy has no resource dir
    args = ["-c", "a.c", "-o", "a.o"]
    for _ in range(2):
        assert zc.run(str(my_cc), *args, cwd=tmp_path).returncode == 0
    assert (zc.stats()["misses"], zc.stats()["hits"]) == (1, 1)
    with open(inner, "ab") as f:  # a new build of the compiler: still runs, other bytes
        f.write(b"\0rebuilt")
    os.utime(inner, (1_600_000_000, 1_600_000_000))
    done = zc.run(str(my_cc), *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (zc.stats()["misses"], zc.stats()["hits"]) == (2, 1)


# gcc by its own name is test_cmake.py's and test_scons.py's every build
NOT_GCC_NAMED = [("gcc", "wrapper"), ("clang", "wrapper"), ("clang", "named")]


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # the client makes no difference here: test_cmake.py runs both
@pytest.mark.skipif(CMAKE is None, reason="cmake is installed by the test extra")
@pytest.mark.parametrize("family, kind", NOT_GCC_NAMED)
def test_cmake_fresh_build_dir_is_all_hits(zc, tmp_path, family, kind):
    cc, cxx = compilers(tmp_path, family, kind)
    env = {"CC": cc, "CXX": cxx}
    configure_and_build(zc, DEMO, tmp_path / "b1", "Ninja", launchers(), env=env)
    first = zc.stats()
    assert (first["misses"], first["hits"]) == (TRANSLATION_UNITS, 0)
    assert program_output(tmp_path / "b1").endswith(EXPECTED_OUTPUT)
    zc.zero()
    configure_and_build(zc, DEMO, tmp_path / "b2", "Ninja", launchers(), env=env)
    second = zc.stats()
    assert (second["hits"], second["misses"]) == (TRANSLATION_UNITS, 0)
    assert program_output(tmp_path / "b2") == program_output(tmp_path / "b1")
    cache = (tmp_path / "b1" / "CMakeCache.txt").read_text()
    assert f"CMAKE_C_COMPILER:FILEPATH={cc}" in cache or f"CMAKE_C_COMPILER:STRING={cc}" in cache


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # in process: no client runs
@pytest.mark.skipif(SCONS is None, reason="scons is installed by the test extra")
@pytest.mark.parametrize("family, kind", NOT_GCC_NAMED)
def test_scons_in_process_is_all_hits(zc, tmp_path, family, kind):
    cc, cxx = compilers(tmp_path, family, kind)
    proj = tmp_path / "proj"
    shutil.copytree(SCONS_DEMO, proj)
    sconstruct = (proj / "SConstruct").read_text()
    (proj / "SConstruct").write_text(sconstruct.replace(
        'env = Environment(CPPPATH=["#include"], CCFLAGS=["-O2"])',
        'env = Environment(CPPPATH=["#include"], CCFLAGS=["-O2"], CC=ARGUMENTS["CC"], CXX=ARGUMENTS["CXX"],'
        ' LINK=ARGUMENTS["CXX"], SHLINK=ARGUMENTS["CXX"])'))
    first = scons(zc, proj, f"CC={cc}", f"CXX={cxx}")
    assert first.returncode == 0, first.stderr
    assert (zc.stats()["misses"], zc.stats()["hits"]) == (SCONS_UNITS, 0)
    assert run_app(proj) == SCONS_EXPECTED
    assert scons(zc, proj, "-c", f"CC={cc}", f"CXX={cxx}").returncode == 0
    zc.zero()
    again = scons(zc, proj, f"CC={cc}", f"CXX={cxx}")
    assert again.returncode == 0, again.stderr
    assert (zc.stats()["hits"], zc.stats()["misses"]) == (SCONS_UNITS, 0)
    assert run_app(proj) == SCONS_EXPECTED


def test_a_wrapper_whose_compiler_is_retargeted_on_path_misses(zc, tmp_path):
    """`exec gcc "$@"` keeps its bytes when the `gcc` first on PATH becomes clang: the
    same daemon, and a new one, must see another compiler (and give clang's object)."""
    clang = need("clang", "clang")
    tc = tmp_path / "tc"
    tc.mkdir()
    (tc / "gcc").symlink_to(shutil.which("gcc"))
    my_cc = script(tmp_path / "bin" / "my-cc", '#!/bin/sh\nexec gcc "$@"\n')
    write(tmp_path / "a.c", "int a(void) { return 42; }\n")
    env = {"PATH": f"{tc}{os.pathsep}{zc.env['PATH']}"}
    time.sleep(RACY_SECONDS + 0.1)  # settled, as an installed wrapper is
    assert zc.run(str(my_cc), "-c", "a.c", "-o", "a.o", cwd=tmp_path, env=env).returncode == 0
    (tc / "gcc").unlink()
    (tc / "gcc").symlink_to(clang)
    assert zc.plain(clang, "-c", "a.c", "-o", "ref.o", cwd=tmp_path).returncode == 0
    for _ in ("same daemon", "new daemon"):
        assert zc.run(str(my_cc), "-c", "a.c", "-o", "a.o", cwd=tmp_path, env=env).returncode == 0
        assert (tmp_path / "a.o").read_bytes() == (tmp_path / "ref.o").read_bytes()
        assert zc.run("stop", cwd=tmp_path).returncode == 0
    assert (zc.stats()["misses"], zc.stats()["hits"]) == (2, 1)
