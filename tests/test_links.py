"""Links and archives through the store, against the real gcc, clang, ld, ar and ranlib:
a hit gives the linker's own bytes, mode, output and exit code; every input the
linker read is checked, libraries shadowed on the search path included."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

import support
from support import compiler_pair, no_traceback, write

native = pytest.mark.parametrize("zc", ["native"], indirect=True)  # the other clients: the last test


def links(zc) -> tuple[int, int, dict]:
    s = zc.stats()["links"]
    return s["hits"], s["misses"], s["uncacheable"]


def objects(zc, tmp_path: Path, cc: str = "gcc", pic: bool = False) -> Path:
    write(tmp_path / "main.c", "int f(void);\nint g(void);\nint main(void) { return f() + g(); }\n")
    write(tmp_path / "f.c", "int f(void) { return 2; }\n")
    for name in ("main", "f"):
        done = zc.plain(cc, *(["-fPIC"] if pic else []), "-c", f"{name}.c", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    built()
    return tmp_path


def built() -> None:
    """Files were just written by a plain tool: the next run through zccache waits for
    the file clock to tick past them, as after write() (a run that starts in the same
    tick as an input's last change is rightly not stored)."""
    support._last_write = time.monotonic()


def library(zc, tmp_path: Path, directory: str, value: int, kind: str = "so") -> None:
    """libg in directory: g() returns value."""
    (tmp_path / directory).mkdir(exist_ok=True)
    write(tmp_path / f"g{value}.c", f"int g(void) {{ return {value}; }}\n")
    assert zc.plain("gcc", "-fPIC", "-c", f"g{value}.c", cwd=tmp_path).returncode == 0
    if kind == "so":
        done = zc.plain("gcc", "-shared", f"g{value}.o", "-o", f"{directory}/libg.so", cwd=tmp_path)
    else:
        (tmp_path / directory / "libg.a").unlink(missing_ok=True)
        done = zc.plain("ar", "rcs", f"{directory}/libg.a", f"g{value}.o", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    built()


def plain_link(zc, tmp_path: Path, argv: list[str], inputs: list[str]) -> bytes:
    """The output of argv run plainly with the same names, in a copy of the inputs
    (a link's output name can be in its bytes: ld's version definitions name it)."""
    import shutil

    where = tmp_path / "plain-run"
    shutil.rmtree(where, ignore_errors=True)
    for name in inputs:
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(tmp_path / name, where / name)
    done = zc.plain(*argv, cwd=where)
    assert done.returncode == 0, done.stderr
    return (where / argv[argv.index("-o") + 1]).read_bytes()


def run_program(path: Path, libdir: Path | None = None) -> int:
    env = {**os.environ, "LD_LIBRARY_PATH": str(libdir)} if libdir else None
    return subprocess.run([str(path)], env=env).returncode


@native
@pytest.mark.parametrize("family", ["gcc", "clang"])
def test_link_hit_is_the_linkers_own_file(zc, tmp_path, family):
    cc, cxx = compiler_pair(family)
    objects(zc, tmp_path, cc)
    library(zc, tmp_path, "lib", 5)
    argv = [cc, "main.o", "f.o", "-Llib", "-lg", "-lm", "-o", "app"]
    first = zc.run(*argv, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    plain = zc.plain(*argv[:-1], "plain", cwd=tmp_path)
    assert (tmp_path / "app").read_bytes() == (tmp_path / "plain").read_bytes()
    (tmp_path / "app").unlink()
    second = zc.run(*argv, cwd=tmp_path)
    assert (second.returncode, second.stdout, second.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert (tmp_path / "app").read_bytes() == (tmp_path / "plain").read_bytes()
    assert stat.S_IMODE((tmp_path / "app").stat().st_mode) == stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert run_program(tmp_path / "app", tmp_path / "lib") == 7
    assert links(zc)[:2] == (1, 1)
    # C++ and -shared
    write(tmp_path / "h.cpp", "#include <string>\nextern \"C\" int h(const char* s) { return std::string(s).size(); }\n")
    assert zc.plain(cxx, "-fPIC", "-c", "h.cpp", cwd=tmp_path).returncode == 0
    built()
    for _ in range(2):
        (tmp_path / "libh.so").unlink(missing_ok=True)
        done = zc.run(cxx, "-shared", "h.o", "-Wl,-soname,libh.so", "-o", "libh.so", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "libh.so").read_bytes() == plain_link(zc, tmp_path, [cxx, "-shared", "h.o", "-Wl,-soname,libh.so",
                                                                            "-o", "libh.so"], ["h.o"])
    assert links(zc)[:2] == (2, 2)
    # the store's own check takes the links' results (deltas against their inputs) as sound
    checked = zc.run("check", cwd=tmp_path)
    assert checked.returncode == 0 and b", 0 bad" in checked.stdout, checked.stdout


@native
def test_changed_object_library_or_script_misses(zc, tmp_path):
    objects(zc, tmp_path)
    library(zc, tmp_path, "lib", 5, kind="a")
    write(tmp_path / "v.map", "V1 { global: main; local: *; };\n")
    argv = ["gcc", "main.o", "f.o", "-Llib", "-lg", "-Wl,--version-script=v.map", "-o", "app"]
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert run_program(tmp_path / "app") == 7
    # an object changes
    write(tmp_path / "f.c", "int f(void) { return 3; }\n")
    assert zc.plain("gcc", "-c", "f.c", cwd=tmp_path).returncode == 0
    built()
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert run_program(tmp_path / "app") == 8
    # a member of a static library the linker found with -l
    library(zc, tmp_path, "lib", 6, kind="a")
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert run_program(tmp_path / "app") == 9
    # the version script: f becomes global too
    write(tmp_path / "v.map", "V1 { global: main; f; local: *; };\n")
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert (tmp_path / "app").read_bytes() == plain_link(zc, tmp_path, argv, ["main.o", "f.o", "lib/libg.a", "v.map"])
    assert links(zc)[:2] == (0, 4)


@native
def test_library_appearing_earlier_on_the_search_path_misses(zc, tmp_path):
    """-L first -L second, libg found in second: a libg.so, or a libg.a, created in
    first is what the linker takes next; a cache that keyed only on the files read
    would serve the old program."""
    objects(zc, tmp_path)
    (tmp_path / "first").mkdir()
    library(zc, tmp_path, "second", 5)
    argv = ["gcc", "main.o", "f.o", "-Lfirst", "-Lsecond", "-lg", "-o", "app"]
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert run_program(tmp_path / "app", tmp_path / "second") == 7
    library(zc, tmp_path, "first", 9, kind="a")
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert run_program(tmp_path / "app", tmp_path / "second") == 11  # linked statically from first
    (tmp_path / "first" / "libg.a").unlink()
    assert zc.run(*argv, cwd=tmp_path).returncode == 0  # back to the first state: a hit
    assert run_program(tmp_path / "app", tmp_path / "second") == 7
    library(zc, tmp_path, "first", 4)
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert b"first/libg.so" in subprocess.run(["ldd", str(tmp_path / "app")], capture_output=True,
                                                env={**os.environ, "LD_LIBRARY_PATH": str(tmp_path / "first")}).stdout
    assert run_program(tmp_path / "app", tmp_path / "first") == 6
    assert links(zc)[:2] == (1, 3)


@native
def test_failed_link_and_ld_messages(zc, tmp_path):
    write(tmp_path / "main.c", "int missing(void);\nint main(void) { return missing(); }\n")
    assert zc.plain("gcc", "-c", "main.c", cwd=tmp_path).returncode == 0
    built()
    plain = zc.plain("gcc", "main.o", "-o", "app", cwd=tmp_path)
    for _ in range(2):
        done = zc.run("gcc", "main.o", "-o", "app", cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        no_traceback(done)
    assert b"--dependency-file" not in done.stderr
    s = zc.stats()["links"]
    assert (s["compile_failed"], s["hits"], s["misses"]) == (2, 0, 0)


@native
def test_side_outputs_lto_ld_and_passthroughs(zc, tmp_path):
    objects(zc, tmp_path)
    library(zc, tmp_path, "lib", 5)
    # -Map: the map file comes back with the program
    argv = ["gcc", "main.o", "f.o", "-Llib", "-lg", "-Wl,-Map=app.map", "-o", "app"]
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    first_map = (tmp_path / "app.map").read_bytes()
    (tmp_path / "app.map").unlink()
    assert zc.run(*argv, cwd=tmp_path).returncode == 0
    assert (tmp_path / "app.map").read_bytes() == first_map and b"main.o" in first_map
    # LTO: the partitions lto-wrapper writes are not inputs
    for name in ("main", "f"):
        assert zc.plain("gcc", "-flto", "-c", f"{name}.c", "-o", f"{name}.lto.o", cwd=tmp_path).returncode == 0
    built()
    found = []
    for _ in range(2):
        done = zc.run("gcc", "-flto", "main.lto.o", "f.lto.o", "-Llib", "-lg", "-o", "lto", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        found.append((tmp_path / "lto").read_bytes())
        (tmp_path / "lto").unlink()
    assert found[0] == found[1]
    # ld itself: a relocatable link
    found = []
    for _ in range(2):
        assert zc.run("ld", "-r", "main.o", "f.o", "-o", "r.o", cwd=tmp_path).returncode == 0
        found.append((tmp_path / "r.o").read_bytes())
    assert found[0] == found[1]
    assert links(zc)[:2] == (3, 3)
    # what a link cannot be cached with is run as it is, and counted
    for argv, reason in ((["gcc", "main.o", "f.o", "-Llib", "-lg", "-Wl,--build-id=uuid", "-o", "u"],
                          "unsupported linker option --build-id"),
                         (["gcc", "main.c", "f.o", "-Llib", "-lg", "-o", "both"], "compile and link"),
                         (["gcc", "-fuse-ld=gold", "main.o", "f.o", "-Llib", "-lg", "-o", "gold"], "linker -fuse-ld=gold")):
        done = zc.run(*argv, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert reason in links(zc)[2]


@native
def test_archives(zc, tmp_path):
    objects(zc, tmp_path)
    write(tmp_path / "e.c", "int e(void) { return 1; }\n")
    assert zc.plain("gcc", "-c", "e.c", cwd=tmp_path).returncode == 0
    built()
    # CMake's rule: the archive removed, created with qc, indexed by ranlib
    results = []
    for _ in range(2):
        (tmp_path / "libx.a").unlink(missing_ok=True)
        assert zc.run("ar", "qc", "libx.a", "main.o", "f.o", cwd=tmp_path).returncode == 0
        assert zc.run("ranlib", "libx.a", cwd=tmp_path).returncode == 0
        results.append((tmp_path / "libx.a").read_bytes())
    (tmp_path / "libx.a").unlink()
    assert zc.plain("ar", "qc", "libx.a", "main.o", "f.o", cwd=tmp_path).returncode == 0
    assert zc.plain("ranlib", "libx.a", cwd=tmp_path).returncode == 0
    assert results[0] == results[1] == (tmp_path / "libx.a").read_bytes()
    assert links(zc)[:2] == (2, 2)
    # r on an existing archive: what was there is an input
    assert zc.run("ar", "rcs", "libx.a", "e.o", cwd=tmp_path).returncode == 0
    listing = zc.plain("ar", "t", "libx.a", cwd=tmp_path).stdout
    assert listing.split() == [b"main.o", b"f.o", b"e.o"]
    (tmp_path / "liby.a").unlink(missing_ok=True)
    assert zc.run("ar", "rcs", "liby.a", "e.o", cwd=tmp_path).returncode == 0  # no archive before: not that entry
    assert zc.plain("ar", "t", "liby.a", cwd=tmp_path).stdout.split() == [b"e.o"]
    # a changed member misses
    write(tmp_path / "e.c", "int e(void) { return 2; }\n")
    assert zc.plain("gcc", "-c", "e.c", cwd=tmp_path).returncode == 0
    built()
    (tmp_path / "liby.a").unlink()
    assert zc.run("ar", "rcs", "liby.a", "e.o", cwd=tmp_path).returncode == 0
    assert zc.plain("ar", "p", "liby.a", "e.o", cwd=tmp_path).stdout == (tmp_path / "e.o").read_bytes()
    assert links(zc)[:2] == (2, 5)
    # time-dependent modifiers run as they are
    done = zc.run("ar", "ruU", "liby.a", "e.o", cwd=tmp_path)
    assert done.returncode == 0
    assert links(zc)[2] == {"ar modifier that depends on time or position": 1}


@pytest.mark.parametrize("zc", ["python", "in-process"], indirect=True)
def test_link_hit_with_the_python_client_and_in_process(zc, tmp_path):
    objects(zc, tmp_path)
    library(zc, tmp_path, "lib", 5)
    off = zc.run("gcc", "main.o", "f.o", "-Llib", "-lg", "-o", "app", cwd=tmp_path, env={"ZCCACHE_LINKS": "0"})
    assert off.returncode == 0 and links(zc)[2] == {"link caching off (ZCCACHE_LINKS=0)": 1}
    found = []
    for _ in range(2):
        (tmp_path / "app").unlink(missing_ok=True)
        done = zc.run("gcc", "main.o", "f.o", "-Llib", "-lg", "-o", "app", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        found.append((tmp_path / "app").read_bytes())
    assert found[0] == found[1]
    assert run_program(tmp_path / "app", tmp_path / "lib") == 7
    assert links(zc)[:2] == (1, 1)


@native
def test_response_file_link(zc, tmp_path):
    """CMake's long link lines come in a response file: its content is in the key, and
    the linker is run with the file, not with its content on the command line."""
    objects(zc, tmp_path)
    library(zc, tmp_path, "lib", 5)
    write(tmp_path / "link.rsp", "main.o f.o -Llib -lg\n")
    found = []
    for _ in range(2):
        (tmp_path / "app").unlink(missing_ok=True)
        done = zc.run("gcc", "@link.rsp", "-o", "app", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        found.append((tmp_path / "app").read_bytes())
    assert found[0] == found[1] and links(zc)[:2] == (1, 1)
    write(tmp_path / "link.rsp", "main.o f.o -Llib -lg -lm\n")
    assert zc.run("gcc", "@link.rsp", "-o", "app", cwd=tmp_path).returncode == 0
    assert links(zc)[:2] == (1, 2)
