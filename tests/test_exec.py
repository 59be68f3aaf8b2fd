"""``zccache exec``: any tool cached by its declared inputs, against real tools:
clang-tidy (an include scan finds its headers), gcc -E with a depfile, objcopy
(output files, globs, modes)."""

from __future__ import annotations

import pytest

from support import need, no_traceback, write

native = pytest.mark.parametrize("zc", ["native"], indirect=True)


def exec_stats(zc) -> tuple[int, int, dict]:
    s = zc.stats()["exec"]
    return s["hits"], s["misses"], s["uncacheable"]


@native
def test_clang_tidy_with_an_include_scan(zc, tmp_path):
    need("clang-tidy", "clang-tidy")
    write(tmp_path / ".clang-tidy", "Checks: '-*,bugprone-integer-division'\n")
    write(tmp_path / "include" / "sizes.h", "#define RATIO 1\n")
    write(tmp_path / "src" / "a.c", '#include "sizes.h"\ndouble f(int n) { return RATIO * n / 2; }\n')
    argv = ["exec", "--input", "src/*.c", "--input", ".clang-tidy", "--include-scan", "-I", "include",
            "--", "clang-tidy", "--quiet", "src/a.c", "--", "-Iinclude"]
    plain = zc.plain("clang-tidy", "--quiet", "src/a.c", "--", "-Iinclude", cwd=tmp_path)
    assert b"bugprone-integer-division" in plain.stdout
    for _ in range(2):
        done = zc.run(*argv, cwd=tmp_path)
        no_traceback(done)
        assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert exec_stats(zc) == (1, 1, {})
    # the header the scan found changes: the warning goes, and the cache says so
    write(tmp_path / "include" / "sizes.h", "#define RATIO 1.0\n")
    done = zc.run(*argv, cwd=tmp_path)
    assert b"bugprone-integer-division" not in done.stdout
    assert done.stdout == zc.plain("clang-tidy", "--quiet", "src/a.c", "--", "-Iinclude", cwd=tmp_path).stdout
    # a header of the same name in the source's own directory now shadows it
    write(tmp_path / "src" / "sizes.h", "#define RATIO 1\n")
    done = zc.run(*argv, cwd=tmp_path)
    assert b"bugprone-integer-division" in done.stdout
    # the configuration is a declared input
    write(tmp_path / ".clang-tidy", "Checks: '-*,bugprone-sizeof-expression'\n")
    done = zc.run(*argv, cwd=tmp_path)
    assert b"bugprone-integer-division" not in done.stdout
    assert exec_stats(zc) == (1, 4, {})


@native
def test_depfile_names_what_else_the_tool_read(zc, tmp_path):
    write(tmp_path / "gen.h", "#define VALUE 1\n")
    write(tmp_path / "a.c", '#include "gen.h"\nint v = VALUE;\n')
    argv = ["exec", "--input", "a.c", "--depfile", "a.d", "--output", "a.i", "--",
            "gcc", "-E", "-P", "a.c", "-o", "a.i", "-MD", "-MF", "a.d"]
    for _ in range(2):
        (tmp_path / "a.i").unlink(missing_ok=True)
        (tmp_path / "a.d").unlink(missing_ok=True)
        done = zc.run(*argv, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "a.i").read_text().strip() == "int v = 1;"
        assert "gen.h" in (tmp_path / "a.d").read_text()  # the depfile is restored too
    write(tmp_path / "gen.h", "#define VALUE 2\n")
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert (tmp_path / "a.i").read_text().strip() == "int v = 2;"
    assert exec_stats(zc) == (1, 2, {})


@native
def test_outputs_globs_env_and_no_cache(zc, tmp_path):
    write(tmp_path / "data" / "one.txt", "one\n")
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    assert zc.plain("gcc", "-g", "-c", "a.c", cwd=tmp_path).returncode == 0
    argv = ["exec", "--input", "a.o", "--input", "data/**", "--input-env", "STRIP_MODE", "--output", "a.dbg",
            "--output", "a.stripped", "--", "sh", "-c",
            "objcopy --only-keep-debug a.o a.dbg && objcopy --strip-debug a.o a.stripped && echo split"]
    runs = []
    for _ in range(2):
        for name in ("a.dbg", "a.stripped"):
            (tmp_path / name).unlink(missing_ok=True)
        done = zc.run(*argv, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (0, b"split\n"), done.stderr
        runs.append(((tmp_path / "a.dbg").read_bytes(), (tmp_path / "a.stripped").read_bytes()))
    assert runs[0] == runs[1]
    assert exec_stats(zc)[:2] == (1, 1)
    # a new file matching the glob, and the declared variable, are in the key
    write(tmp_path / "data" / "sub" / "two.txt", "two\n")
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert zc.run(*argv, cwd=tmp_path, env={"STRIP_MODE": "x"}).returncode == 0
    assert exec_stats(zc)[:2] == (1, 3)
    done = zc.run("exec", "--no-cache", "--output", "a.dbg", "--", "objcopy", "--only-keep-debug", "a.o", "a.dbg",
                  cwd=tmp_path)
    assert done.returncode == 0 and exec_stats(zc)[:2] == (1, 3)
    # failures are the tool's, and stored never
    for _ in range(2):
        done = zc.run("exec", "--input", "a.o", "--", "objcopy", "missing.o", "out.o", cwd=tmp_path)
        assert done.returncode != 0 and b"missing.o" in done.stderr
        no_traceback(done)
    # bad requests get one line
    for bad in (["exec", "--", "no-such-tool-here"], ["exec", "--input", "data", "--", "true"],
                ["exec", "-I", "x", "--", "true"], ["exec"]):
        done = zc.run(*bad, cwd=tmp_path)
        assert done.returncode != 0 and len(done.stderr.splitlines()) == 1, done.stderr
        no_traceback(done)


@native
def test_cwd_in_key(zc, tmp_path):
    """Two checkouts with the same files: shared by default, apart with --cwd-in-key
    (for a tool that writes its working directory into what it prints)."""
    for name in ("one", "two"):
        write(tmp_path / name / "in.txt", "same\n")
    for flags, expected in (([], (1, 1)), (["--cwd-in-key"], (1, 3))):
        for name in ("one", "two"):
            done = zc.run("exec", "--input", "in.txt", *flags, "--", "sh", "-c", "wc -c < in.txt", cwd=tmp_path / name)
            assert (done.returncode, done.stdout) == (0, b"5\n"), done.stderr
        assert exec_stats(zc)[:2] == expected
    done = zc.run("exec", "--input", "in.txt", "--cwd-in-key", "--", "pwd", cwd=tmp_path / "two")
    assert done.stdout.decode().strip() == str(tmp_path / "two")
