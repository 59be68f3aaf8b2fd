"""Every case a compiler cache must get right, against the real gcc/g++ and clang/clang++.

Each check compiles the plain way first, then through zccache (a miss) and again
(a hit), and compares every output byte, stdout, stderr and the exit code.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from support import compiler_pair, no_traceback, write
from support.checks import checked, outputs_of, remove, same_as_plain

HELLO = '#include <stdio.h>\n#include "util.h"\nint main(void) { printf("%d\\n", UTIL); return 0; }\n'


@pytest.fixture(autouse=True, params=["gcc", "clang"])
def compilers(request, zc):
    """Every test here runs once with gcc/g++ and once with clang/clang++."""
    zc.cc, zc.cxx = compiler_pair(request.param)


def test_hit_gives_byte_identical_object(zc, tmp_path):
    write(tmp_path / "util.h", "#define UTIL 7\n")
    write(tmp_path / "hello.c", HELLO)
    assert same_as_plain(zc, tmp_path, ["-O2", "-c", "hello.c", "-o", "hello.o"], ["hello.o"]) == "hit"
    assert zc.stats()["hits_direct"] == 1


def test_cxx_and_default_output_name(zc, tmp_path):
    write(tmp_path / "v.cpp", "#include <vector>\nint n() { std::vector<int> v{1,2}; return v.size(); }\n")
    assert same_as_plain(zc, tmp_path, ["-c", "v.cpp"], ["v.o"], compiler=zc.cxx) == "hit"


@pytest.mark.parametrize(
    "flag",
    [["-Iinc"], ["-isystem", "inc"], ["-iquote", "inc"], "CPATH", "C_INCLUDE_PATH"],
    ids=["-I", "-isystem", "-iquote", "CPATH", "C_INCLUDE_PATH"],
)
def test_header_edit_misses_and_gives_new_object(zc, tmp_path, flag):
    env = None
    args = ["-c", "src/hello.c", "-o", "hello.o"]
    if isinstance(flag, str):
        env = {flag: str(tmp_path / "inc")}
    else:
        args = [*flag, *args]
    write(tmp_path / "inc" / "util.h", '#include "deep.h"\n#define UTIL DEEP\n')
    write(tmp_path / "inc" / "deep.h", "#define DEEP 1\n")
    write(tmp_path / "src" / "hello.c", HELLO)
    assert same_as_plain(zc, tmp_path, args, ["hello.o"], env=env) == "hit"
    write(tmp_path / "inc" / "deep.h", "#define DEEP 2\n")  # same size, new content
    assert same_as_plain(zc, tmp_path, args, ["hello.o"], env=env) == "hit"


@pytest.mark.parametrize("where", ["earlier -I dir", "source dir", "new subdirectory"])
def test_new_header_shadowing_an_included_one_misses(zc, tmp_path, where):
    include = "sub/util.h" if where == "new subdirectory" else "util.h"
    write(tmp_path / "b" / include, "#define UTIL 1\n")
    (tmp_path / "a").mkdir()
    write(tmp_path / "src" / "hello.c", HELLO.replace('"util.h"', f'"{include}"'))
    args = ["-Ia", "-Ib", "-c", "src/hello.c", "-o", "hello.o"]
    assert same_as_plain(zc, tmp_path, args, ["hello.o"]) == "hit"
    shadow = {"earlier -I dir": tmp_path / "a" / include, "source dir": tmp_path / "src" / include,
              "new subdirectory": tmp_path / "a" / include}[where]
    write(shadow, "#define UTIL 2\n")
    assert same_as_plain(zc, tmp_path, args, ["hello.o"]) == "hit"
    # and the object really is the shadowing header's
    assert zc.stats()["misses"] == 2


@pytest.mark.parametrize("where", ["source dir", "earlier -I dir", "build dir", "shared -I dir outside both"])
def test_a_shadowing_header_in_another_checkout_or_build_dir_misses(zc, tmp_path, where):
    """The same compile in a second checkout (base dir) or a fresh build dir shares the
    first's manifest: its shadow probes are the second's paths, not the first's."""
    for tree in ("one", "two"):
        write(tmp_path / tree / "src" / "hello.c", HELLO)
        write(tmp_path / tree / "b" / "util.h", "#define UTIL 1\n")
        (tmp_path / tree / "a").mkdir()
        for build in ("build", "build2"):
            (tmp_path / tree / build).mkdir()
    (tmp_path / "shared").mkdir()  # named absolutely by both checkouts: the same directory for each

    def compile_in(tree: str, build: str) -> tuple[str, bytes]:
        top = tmp_path / tree
        args = ["-I.", f"-I{tmp_path / 'shared'}", f"-I{top / 'a'}", f"-I{top / 'b'}", "-c", str(top / "src" / "hello.c"),
                "-o", "hello.o"]
        before = zc.stats()
        done = zc.run(zc.cc, *args, cwd=top / build, env={"ZCCACHE_BASEDIR": str(top)})
        no_traceback(done)
        assert done.returncode == 0, done.stderr
        plain = zc.plain(zc.cc, *args, "-o", "plain.o", cwd=top / build)
        assert plain.returncode == 0, plain.stderr
        after = zc.stats()
        kind = "hit" if after["hits"] > before["hits"] else "miss" if after["misses"] > before["misses"] else "other"
        return kind, (top / build / "hello.o").read_bytes() == (top / build / "plain.o").read_bytes()

    assert compile_in("one", "build") == ("miss", True)
    assert compile_in("two", "build") == ("hit", True)  # base dir: the checkouts share it
    tree, build = ("one", "build2") if where == "build dir" else ("two", "build")
    shadow = {"source dir": tmp_path / "two" / "src", "earlier -I dir": tmp_path / "two" / "a",
              "build dir": tmp_path / "one" / "build2", "shared -I dir outside both": tmp_path / "shared"}[where]
    write(shadow / "util.h", "#define UTIL 2\n")
    assert compile_in(tree, build) == ("miss", True)


def test_define_change_misses(zc, tmp_path):
    write(tmp_path / "d.c", "int v = VALUE;\n")
    assert same_as_plain(zc, tmp_path, ["-DVALUE=1", "-c", "d.c", "-o", "d.o"], ["d.o"]) == "hit"
    assert same_as_plain(zc, tmp_path, ["-DVALUE=2", "-c", "d.c", "-o", "d.o"], ["d.o"]) == "hit"


def test_changed_compiler_binary_misses(zc, tmp_path):
    write(tmp_path / "d.c", "#ifndef WRAP\n#define WRAP 1\n#endif\nint v = WRAP;\n")
    cc = tmp_path / "bin" / zc.cc  # a wrapper in front of the real one
    gcc = shutil.which(zc.cc)
    write(cc, f'#!/bin/sh\nexec {gcc} "$@"\n')
    cc.chmod(cc.stat().st_mode | stat.S_IEXEC)
    args = ["-c", "d.c", "-o", "d.o"]
    assert same_as_plain(zc, tmp_path, args, ["d.o"], compiler=str(cc)) == "hit"
    write(cc, f'#!/bin/sh\nexec {gcc} -DWRAP=2 "$@"\n')  # same path, new compiler
    assert same_as_plain(zc, tmp_path, args, ["d.o"], compiler=str(cc)) == "hit"
    # a different compiler for the same source
    assert same_as_plain(zc, tmp_path, args, ["d.o"], compiler=zc.cxx) == "hit"


@pytest.mark.parametrize(
    "deps",
    [["-MD"], ["-MMD"], ["-MD", "-MF", "out/custom.dep"], ["-MD", "-MT", "tgt", "-MQ", "$q"], ["-MMD", "-MP", "-MF", "x.d"]],
    ids=["MD", "MMD", "MF", "MT-MQ", "MMD-MP-MF"],
)
def test_depfile_restored_identical(zc, tmp_path, deps):
    write(tmp_path / "util.h", "#define UTIL 7\n")
    write(tmp_path / "hello.c", HELLO)
    (tmp_path / "out").mkdir()
    depfile = deps[deps.index("-MF") + 1] if "-MF" in deps else "out/hello.d"
    args = [*deps, "-c", "hello.c", "-o", "out/hello.o"]
    assert same_as_plain(zc, tmp_path, args, ["out/hello.o", depfile]) == "hit"


def test_warnings_replayed_on_hit(zc, tmp_path):
    write(tmp_path / "w.c", "int f(void) { int unused; return 0; }\n")
    args = ["-Wall", "-c", "w.c", "-o", "w.o"]
    plain = zc.plain(zc.cc, *args, cwd=tmp_path)
    assert b"unused" in plain.stderr
    assert same_as_plain(zc, tmp_path, args, ["w.o"]) == "hit"


def test_compile_error_is_replayed_and_never_stored(zc, tmp_path):
    write(tmp_path / "e.c", "int f(void) { return 1 }\n")
    plain = zc.plain(zc.cc, "-c", "e.c", "-o", "e.o", cwd=tmp_path)
    for _ in range(2):
        done = zc.run(zc.cc, "-c", "e.c", "-o", "e.o", cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        assert done.returncode != 0 and not (tmp_path / "e.o").exists()
    stats = zc.stats()
    assert stats["compile_failed"] == 2 and stats["hits"] == 0
    write(tmp_path / "e.c", "int f(void) { return 1; }\n")
    assert same_as_plain(zc, tmp_path, ["-c", "e.c", "-o", "e.o"], ["e.o"]) == "hit"


@pytest.mark.parametrize(
    "flags,extra",
    [(["--coverage"], ["o/c.gcno"]), (["-g", "-gsplit-dwarf"], ["o/c.dwo"]), (["-fstack-usage"], ["o/c.su"])],
    ids=["coverage", "split-dwarf", "stack-usage"],
)
def test_side_outputs_restored(zc, tmp_path, flags, extra):
    write(tmp_path / "c.c", "int g(int x) { return x * 2; }\n")
    (tmp_path / "o").mkdir()
    args = [*flags, "-c", "c.c", "-o", "o/c.o"]
    # gcc stamps coverage notes with the time: two plain compiles differ already
    deterministic = "--coverage" not in flags
    assert same_as_plain(zc, tmp_path, args, ["o/c.o", *extra], deterministic=deterministic) == "hit"


def test_time_macros_are_passed_through_and_counted(zc, tmp_path):
    write(tmp_path / "t.c", 'const char *when = __DATE__ " " __TIME__;\n')
    for _ in range(2):
        done = zc.run(zc.cc, "-c", "t.c", "-o", "t.o", cwd=tmp_path)
        assert done.returncode == 0 and (tmp_path / "t.o").is_file()
    stats = zc.stats()
    assert stats["hits"] == 0 and stats["uncacheable"].get("time macros") == 2
    # in a header too
    write(tmp_path / "t.h", "static const char *when = __TIME__;\n")
    write(tmp_path / "u.c", '#include "t.h"\nconst char *w(void) { return when; }\n')
    for _ in range(2):
        assert zc.run(zc.cc, "-c", "u.c", "-o", "u.o", cwd=tmp_path).returncode == 0
    stats = zc.stats()
    assert stats["hits"] == 0 and stats["uncacheable"].get("time macros") == 4
    # reproducible with SOURCE_DATE_EPOCH where the compiler follows it (gcc; clang from
    # 16 on): cached. Debian's clang 14 ignores it: still passed through, never stale.
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    follows = b"2023" in zc.plain(zc.cc, "-E", "-P", "t.c", cwd=tmp_path, env=env).stdout
    if follows:
        assert same_as_plain(zc, tmp_path, ["-c", "t.c", "-o", "t.o"], ["t.o"], env=env) == "hit"
    else:
        for _ in range(2):
            assert zc.run(zc.cc, "-c", "t.c", "-o", "t.o", cwd=tmp_path, env=env).returncode == 0
        assert zc.stats()["uncacheable"].get("time macros") == 6
    assert follows or zc.cc == "clang"  # gcc has followed it since gcc 7


@pytest.mark.parametrize(
    "args,outputs",
    [
        (["-E", "hello.c"], []),
        (["hello.c", "-o", "prog"], ["prog"]),
        (["--version"], []),
        (["-M", "hello.c"], []),
        (["-MM", "hello.c"], []),
        (["-save-temps", "-c", "hello.c", "-o", "h.o"], ["h.o", "h.i", "h.s"]),
        (["-x", "c", "-c", "-", "-o", "s.o"], ["s.o"]),
    ],
    ids=["-E", "link", "--version", "-M", "-MM", "save-temps", "stdin"],
)
def test_passthrough_is_identical_to_plain_compiler(zc, tmp_path, args, outputs):
    write(tmp_path / "util.h", "#define UTIL 7\n")
    write(tmp_path / "hello.c", HELLO)
    stdin_data = HELLO.replace('#include "util.h"', "#define UTIL 3").encode()
    if zc.cc == "clang" and "-save-temps" in args:  # clang names its temporaries after the source
        outputs = ["h.o", "hello.i", "hello.bc", "hello.s"]
    plain = subprocess.run([zc.cc, *args], cwd=tmp_path, env=zc.env, capture_output=True, input=stdin_data)
    expected = outputs_of(tmp_path, outputs)
    remove(tmp_path, outputs)
    done = subprocess.run([zc.command, zc.cc, *args], cwd=tmp_path, env=zc.env, capture_output=True, input=stdin_data)
    assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    if "prog" not in outputs:  # linked programs embed nothing variable, but be exact only for objects
        assert outputs_of(tmp_path, outputs) == expected
    stats = zc.stats()
    assert stats["hits"] == stats["misses"] == 0
    assert stats["uncacheable_total"] + stats["links"]["uncacheable_total"] == 1  # compile and link: a link


def test_response_file(zc, tmp_path):
    write(tmp_path / "util.h", "#define UTIL 7\n")
    write(tmp_path / "hello.c", HELLO)
    write(tmp_path / "more.rsp", '-DEXTRA="a b"\n')
    write(tmp_path / "args.rsp", "-O1 -c\n@more.rsp\n")
    assert same_as_plain(zc, tmp_path, ["@args.rsp", "hello.c", "-o", "r.o"], ["r.o"]) == "hit"
    write(tmp_path / "more.rsp", "-DEXTRA=2\n")  # the response file's content is in the key
    assert same_as_plain(zc, tmp_path, ["@args.rsp", "hello.c", "-o", "r.o"], ["r.o"]) == "hit"


def test_multiple_sources_in_one_command(zc, tmp_path):
    write(tmp_path / "a.c", "int a(void) { return 1; }\n")
    write(tmp_path / "b.c", "int b(void) { return 2; }\n")
    plain = zc.plain(zc.cc, "-c", "a.c", "b.c", cwd=tmp_path)
    expected = outputs_of(tmp_path, ["a.o", "b.o"])
    remove(tmp_path, ["a.o", "b.o"])
    for _ in range(2):
        done = zc.run(zc.cc, "-c", "a.c", "b.c", cwd=tmp_path)
        assert (done.returncode, done.stderr) == (plain.returncode, plain.stderr)
        assert outputs_of(tmp_path, ["a.o", "b.o"]) == expected
        remove(tmp_path, ["a.o", "b.o"])
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (2, 2)
    # one failing source: gcc goes on with the other and fails; so do we
    write(tmp_path / "b.c", "int b(void) { return 2 }\n")
    plain = zc.plain(zc.cc, "-c", "a.c", "b.c", cwd=tmp_path)
    done = zc.run(zc.cc, "-c", "a.c", "b.c", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (plain.returncode, plain.stderr)
    assert (tmp_path / "a.o").read_bytes() == expected["a.o"]


def test_parallel_compiles_into_one_cache(zc, tmp_path):
    n = 8
    for i in range(n):
        write(tmp_path / f"p{i}.c", f'#include "util.h"\nint p{i}(int x) {{ return x * {i} + UTIL; }}\n')
    write(tmp_path / "util.h", "#define UTIL 5\n")
    expected = {}
    for i in range(n):
        assert zc.plain(zc.cc, "-O2", "-c", f"p{i}.c", "-o", f"ref{i}.o", cwd=tmp_path).returncode == 0
        expected[i] = (tmp_path / f"ref{i}.o").read_bytes()

    def compile_one(i: int):
        return zc.run(zc.cc, "-O2", "-c", f"p{i}.c", "-o", f"p{i}.o", cwd=tmp_path)

    for _round in range(2):
        with ThreadPoolExecutor(max_workers=n) as pool:
            results = list(pool.map(compile_one, range(n)))
        for i, done in enumerate(results):
            assert done.returncode == 0, done.stderr
            assert done.stderr == b""
            assert (tmp_path / f"p{i}.o").read_bytes() == expected[i]
            (tmp_path / f"p{i}.o").unlink()
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (n, n)


def test_preprocessor_mode(zc, tmp_path):
    env = {"ZCCACHE_DIRECT": "0"}
    write(tmp_path / "util.h", "#define UTIL 7\n")
    write(tmp_path / "hello.c", HELLO)
    assert same_as_plain(zc, tmp_path, ["-c", "hello.c", "-o", "h.o"], ["h.o"], env=env) == "hit"
    assert zc.stats()["hits_preprocessed"] == 1
    write(tmp_path / "util.h", "#define UTIL 8\n")
    assert same_as_plain(zc, tmp_path, ["-c", "hello.c", "-o", "h.o"], ["h.o"], env=env) == "hit"


def test_debug_info_keys_on_working_directory(zc, tmp_path):
    for d in ("one", "two"):
        write(tmp_path / d / "g.c", "int g(int x) { return x + 1; }\n")
    args = ["-g", "-c", "g.c", "-o", "g.o"]
    assert same_as_plain(zc, tmp_path / "one", args, ["g.o"]) == "hit"
    # another directory: the object names it (DW_AT_comp_dir), so it must not hit
    assert same_as_plain(zc, tmp_path / "two", args, ["g.o"]) == "hit"
    assert zc.stats()["misses"] == 2


def test_hit_replaces_the_output_name_and_leaves_its_other_links_alone(zc, tmp_path):
    """A restore puts a new file at the output's name (as the assembler does): an old
    output hard-linked elsewhere (cp -al of a build tree) keeps its bytes there."""
    write(tmp_path / "a.c", "int a(void) { return 7; }\n")
    assert zc.plain(zc.cc, "-c", "a.c", "-o", "ref.o", cwd=tmp_path).returncode == 0
    for _ in range(2):
        assert zc.run(zc.cc, "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    (tmp_path / "a.o").unlink()
    (tmp_path / "elsewhere.o").write_bytes(b"another tree's object")
    (tmp_path / "elsewhere.o").chmod(0o444)
    (tmp_path / "a.o").hardlink_to(tmp_path / "elsewhere.o")
    before = zc.stats()["hits"]
    assert zc.run(zc.cc, "-c", "a.c", "-o", "a.o", cwd=tmp_path).returncode == 0
    assert zc.stats()["hits"] == before + 1
    assert (tmp_path / "a.o").read_bytes() == (tmp_path / "ref.o").read_bytes()
    assert (tmp_path / "elsewhere.o").read_bytes() == b"another tree's object"
    assert stat.S_IMODE((tmp_path / "a.o").stat().st_mode) == stat.S_IMODE((tmp_path / "ref.o").stat().st_mode)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".zccache-")]  # no temporary left


def test_a_command_seen_before_is_classified_again_when_its_depfile_became_a_device(zc, tmp_path):
    """The daemon keeps the classification of a command it saw (plans.py); a depfile
    that is now a link to /dev/null must be left alone, as on the first sight of the
    command (-MF /dev/null: nothing to restore), not replaced by a stored file."""
    write(tmp_path / "util.h", "#define UTIL 3\n")
    write(tmp_path / "hello.c", HELLO)
    args = [zc.cc, "-c", "hello.c", "-o", "hello.o", "-MD", "-MF", "hello.d"]
    for _ in range(2):
        done = zc.run(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert zc.stats()["hits_direct"] == 1
    (tmp_path / "hello.d").unlink()
    (tmp_path / "hello.d").symlink_to("/dev/null")
    checked(zc, tmp_path, zc.cc, args[1:], ["hello.o"])  # gcc's exit code, streams and object
    assert (tmp_path / "hello.d").is_symlink() and os.readlink(tmp_path / "hello.d") == "/dev/null"
