"""Compiler features that ccache's own test suites check (pch, direct, profiling ...),
against the real gcc and clang: the result is right, and cached where it is safe.

docs/compiler-features.md maps each ccache suite to the tests here."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from support import compiler_pair, need, no_traceback, write
from support.builds import CMAKE
from support.checks import checked, outputs_of, remove
from zccache.core.hashing import RACY_SECONDS

FAMILIES = ["gcc", "clang"]


def data_of(obj: Path) -> bytes:
    """The object's .data section: the tests compile 'int x = VALUE;'."""
    done = subprocess.run(["objdump", "-s", "-j", ".data", str(obj)], capture_output=True, check=True)
    return done.stdout.splitlines()[-1].split()[1]


def counts(zc) -> tuple[int, int]:
    stats = zc.stats()
    return stats["misses"], stats["hits"]


# -- precompiled headers (ccache: pch.bash) ------------------------------------------------


@pytest.mark.parametrize("how", ["#include", "-include"])
def test_gch_beside_the_header_never_gives_a_stale_object(zc, tmp_path, how):
    """The issue's case: pre.h and pre.h.gch change together; gcc lists neither in its
    depfile, and takes the .gch without looking at pre.h."""
    write(tmp_path / "pre.h", "#define PRE 1\n")
    source = "int x = PRE;\n" if how == "-include" else '#include "pre.h"\nint x = PRE;\n'
    write(tmp_path / "a.c", source)
    extra = ["-include", "pre.h"] if how == "-include" else []
    args = [*extra, "-c", "a.c", "-o", "a.o"]
    assert zc.plain("gcc", "-x", "c-header", "pre.h", "-o", "pre.h.gch", cwd=tmp_path).returncode == 0
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert counts(zc) == (1, 1)  # cached while nothing changes
    write(tmp_path / "pre.h", "#define PRE 2\n")
    assert zc.plain("gcc", "-x", "c-header", "pre.h", "-o", "pre.h.gch", cwd=tmp_path).returncode == 0
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert data_of(tmp_path / "a.o") == b"02000000"
    assert counts(zc) == (2, 1)
    # only the .gch changes (built from another header): gcc takes it, so must we
    write(tmp_path / "other.h", "#define PRE 3\n")
    assert zc.plain("gcc", "-x", "c-header", "other.h", "-o", "pre.h.gch", cwd=tmp_path).returncode == 0
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert data_of(tmp_path / "a.o") == b"03000000"
    # the .gch goes away: the header's text again
    (tmp_path / "pre.h.gch").unlink()
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert data_of(tmp_path / "a.o") == b"02000000"
    assert counts(zc) == (4, 1)


@pytest.mark.parametrize("where", ["beside the header", "earlier -I dir"])
def test_gch_that_appears_later_misses(zc, tmp_path, where):
    write(tmp_path / "inc" / "pre.h", "#define PRE 1\n")
    (tmp_path / "early").mkdir()
    write(tmp_path / "a.c", '#include <stdio.h>\n#include "pre.h"\nint x = PRE;\n')
    write(tmp_path / "b.c", "#include <pre.h>\nint x = PRE;\n")
    for source in ("a.c", "b.c"):
        args = ["-Iearly", "-Iinc", "-c", source, "-o", "o.o"]
        for _ in range(2):
            checked(zc, tmp_path, "gcc", args, ["o.o"])
    assert counts(zc) == (2, 2)
    write(tmp_path / "gch-src.h", "#define PRE 7\n")
    target = tmp_path / ("inc" if where == "beside the header" else "early") / "pre.h.gch"
    assert zc.plain("gcc", "-x", "c-header", "gch-src.h", "-o", str(target), cwd=tmp_path).returncode == 0
    # b.c's first include is pre.h, so gcc takes the .gch; a.c's is <stdio.h>, so it cannot
    checked(zc, tmp_path, "gcc", ["-Iearly", "-Iinc", "-c", "b.c", "-o", "o.o"], ["o.o"])
    assert data_of(tmp_path / "o.o") == b"07000000"
    if where == "beside the header":
        assert counts(zc) == (3, 2)
    else:  # a .gch with no header beside it: cached only with time_macros sloppiness
        assert counts(zc) == (2, 2) and zc.stats()["uncacheable"] == {"time macros": 1}
    checked(zc, tmp_path, "gcc", ["-Iearly", "-Iinc", "-c", "a.c", "-o", "o.o"], ["o.o"])
    assert data_of(tmp_path / "o.o") == b"01000000"


@pytest.mark.parametrize("form", ["-include", "-include-pch", "-Xclang"])
def test_clang_precompiled_header_is_cached_and_never_stale(zc, tmp_path, form):
    """clang's three spellings; -Xclang is CMake's (target_precompile_headers)."""
    need("clang", "clang")
    write(tmp_path / "pre.h", "#define PRE 1\n")
    write(tmp_path / "a.c", "int x = PRE;\n")
    pch_args = {"-include": ["-include", "pre.h"], "-include-pch": ["-include-pch", "pre.h.pch"],
                "-Xclang": ["-Xclang", "-include-pch", "-Xclang", "pre.h.pch", "-Xclang", "-include", "-Xclang", "pre.h"]}
    args = [*pch_args[form], "-c", "a.c", "-o", "a.o"]

    def build_pch(value: str) -> None:
        write(tmp_path / "pre.h", f"#define PRE {value}\n")
        assert zc.plain("clang", "-x", "c-header", "pre.h", "-o", "pre.h.pch", cwd=tmp_path).returncode == 0

    build_pch("1")
    for _ in range(2):
        checked(zc, tmp_path, "clang", args, ["a.o"])
    assert counts(zc) == (1, 1)
    build_pch("2")
    checked(zc, tmp_path, "clang", args, ["a.o"])
    assert data_of(tmp_path / "a.o") == b"02000000"
    assert counts(zc) == (2, 1)
    assert zc.stats()["uncacheable_total"] == 0


def test_gch_directory_is_passed_through_and_right(zc, tmp_path):
    write(tmp_path / "pre.h", "#define PRE 4\n")
    write(tmp_path / "a.c", '#include "pre.h"\nint x = PRE;\n')
    (tmp_path / "pre.h.gch").mkdir()
    assert zc.plain("gcc", "-x", "c-header", "pre.h", "-o", "pre.h.gch/O0.gch", cwd=tmp_path).returncode == 0
    for _ in range(2):
        checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "a.o"], ["a.o"])
    stats = zc.stats()
    assert stats["hits"] == 0 and stats["uncacheable"] == {"precompiled header directory": 2}


def test_gch_without_its_header_needs_time_macro_sloppiness(zc, tmp_path):
    """ccache's 'Use .gch, #include, remove pch.h': a .gch whose header is gone may
    hold a __TIME__ user nobody can see (every .gch names the builtins), so it is
    cached only with ZCCACHE_SLOPPINESS=time_macros, as ccache asks."""
    write(tmp_path / "pre.h", "#define PRE 6\n")
    write(tmp_path / "a.c", '#include "pre.h"\nint x = PRE;\n')
    assert zc.plain("gcc", "-x", "c-header", "pre.h", "-o", "pre.h.gch", cwd=tmp_path).returncode == 0
    (tmp_path / "pre.h").unlink()
    args = ["-c", "a.c", "-o", "a.o"]
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert data_of(tmp_path / "a.o") == b"06000000"
    assert zc.stats()["uncacheable"] == {"time macros": 1}
    sloppy = {"ZCCACHE_SLOPPINESS": "time_macros"}
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["a.o"], env=sloppy)
    assert counts(zc) == (1, 1)


@pytest.mark.skipif(CMAKE is None, reason="cmake is installed by the test extra")
@pytest.mark.parametrize("family", FAMILIES)
def test_cmake_precompile_headers(zc, tmp_path, family):
    """target_precompile_headers: gcc gets -include with a .gch beside, clang the
    -Xclang -include-pch form. A rebuild after a clean hits; an edit of the
    precompiled header gives the new program."""
    cc, cxx = compiler_pair(family)
    src = tmp_path / "src"
    write(src / "CMakeLists.txt", "cmake_minimum_required(VERSION 3.16)\nproject(pchdemo CXX)\n"
          "add_executable(pchdemo main.cpp more.cpp)\ntarget_precompile_headers(pchdemo PRIVATE common.hpp)\n")
    write(src / "common.hpp", "#include <vector>\n#include <string>\n#define COMMON 5\n")
    write(src / "main.cpp", '#include <cstdio>\nint more();\nint main() { std::printf("%d\\n", COMMON + more()); }\n')
    write(src / "more.cpp", "int more() { std::vector<int> v{1, 2, 3}; return (int)v.size() * COMMON; }\n")
    env = {**zc.env, "CXX": cxx}
    build = tmp_path / "build"

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(list(args), env=env, capture_output=True)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    run(CMAKE, "-G", "Ninja", "-S", str(src), "-B", str(build), "-DCMAKE_CXX_COMPILER_LAUNCHER=zccache")
    run(CMAKE, "--build", str(build))
    assert run(str(build / "pchdemo")).stdout == b"20\n"
    assert counts(zc) == (2, 0)
    # the objects go, the precompiled header stays (gcc's .gch is not reproducible:
    # a new one is new content, and its users miss, with ccache as with us)
    for obj in ("main.cpp.o", "more.cpp.o"):
        (build / "CMakeFiles" / "pchdemo.dir" / obj).unlink()
    run(CMAKE, "--build", str(build))
    assert counts(zc) == (2, 2)
    assert run(str(build / "pchdemo")).stdout == b"20\n"
    write(src / "common.hpp", "#include <vector>\n#include <string>\n#define COMMON 6\n")
    run(CMAKE, "--build", str(build))
    assert run(str(build / "pchdemo")).stdout == b"24\n"
    assert counts(zc) == (4, 2)


# -- dependency files (ccache: direct.bash, depend.bash) ------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("option", ["-MD", "-MMD"])
def test_wp_dependency_options_restore_the_depfile(zc, tmp_path, family, option):
    """-Wp,-MD,file and -Wp,-MMD,file (the Linux kernel's spelling): the depfile comes
    back on a hit, and another depfile name still hits (its name is not in the key)."""
    cc, _ = compiler_pair(family)
    write(tmp_path / "inc" / "util.h", "#define UTIL 3\n")
    write(tmp_path / "src" / "a.c", '#include <stdio.h>\n#include "util.h"\nint x = UTIL;\n')
    (tmp_path / "out").mkdir()
    for name in ("out/a.d", "out/a.d", "out/other.d"):
        args = ["-Iinc", "-c", "src/a.c", "-o", "out/a.o", f"-Wp,{option},{name}"]
        checked(zc, tmp_path, cc, args, ["out/a.o", name])
    assert counts(zc) == (1, 2)
    assert b"util.h" in (tmp_path / "out" / "other.d").read_bytes()
    done = zc.run(cc, "-Iinc", "-c", "src/a.c", "-o", "out/a.o", f"-Wp,{option},x.d", "-MF", "y.d", cwd=tmp_path)
    assert done.returncode == 0
    assert zc.stats()["uncacheable"] == {"-Wp,-MD with -MD, -MMD or -MF": 1}


def test_several_entries_per_manifest(zc, tmp_path):
    """ccache's 'Multiple object entries in manifest': a header that goes back to an
    earlier content hits that content's entry."""
    write(tmp_path / "a.c", '#include "v.h"\nint x = V;\n')
    for value, kind in (("1", "miss"), ("2", "miss"), ("1", "hit"), ("2", "hit")):
        write(tmp_path / "v.h", f"#define V {value}\n")
        before = counts(zc)
        checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "a.o"], ["a.o"])
        after = counts(zc)
        assert after == ((before[0] + 1, before[1]) if kind == "miss" else (before[0], before[1] + 1))


# -- __has_include (no peer gets this right) ---------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("form", ['"opt.h"', "<opt.h>", "next"])
def test_has_include_of_a_header_that_appears_later(zc, tmp_path, family, form):
    cc, _ = compiler_pair(family)
    write(tmp_path / "base" / "opt.h", "#define OPT 1\n")  # found after inc/, only by the _next form
    (tmp_path / "inc").mkdir()
    if form == "next":
        write(tmp_path / "wrap" / "opt.h", "#if __has_include_next(<opt.h>)\n#include_next <opt.h>\n#else\n#define OPT 9\n#endif\n")
        write(tmp_path / "a.c", "#include <opt.h>\nint x = OPT;\n")
        args = ["-Iwrap", "-Iinc", "-c", "a.c", "-o", "a.o"]
        later = tmp_path / "inc" / "opt.h"
    else:
        write(tmp_path / "a.c", f"#if __has_include({form})\n#include {form}\n#else\n#define OPT 1\n#endif\nint x = OPT;\n")
        args = ["-Iinc", "-c", "a.c", "-o", "a.o"]
        later = tmp_path / "inc" / "opt.h"
    for _ in range(2):
        checked(zc, tmp_path, cc, args, ["a.o"])
    first = data_of(tmp_path / "a.o")
    assert counts(zc) == (1, 1)
    write(later, "#define OPT 2\n")
    checked(zc, tmp_path, cc, args, ["a.o"])
    assert data_of(tmp_path / "a.o") == b"02000000" != first
    assert counts(zc) == (2, 1)
    later.unlink()  # and gone again: the first entry is right again
    checked(zc, tmp_path, cc, args, ["a.o"])
    assert data_of(tmp_path / "a.o") == first
    assert counts(zc) == (2, 2)


def test_has_include_without_a_header_to_find(zc, tmp_path):
    """__has_include true without an #include after it: removing the file changes the
    program, and the file is in no depfile."""
    write(tmp_path / "inc" / "feature.h", "\n")
    write(tmp_path / "a.c", "#if __has_include(<feature.h>)\nint x = 5;\n#else\nint x = 6;\n#endif\n")
    args = ["-Iinc", "-c", "a.c", "-o", "a.o"]
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["a.o"])
    (tmp_path / "inc" / "feature.h").unlink()
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert data_of(tmp_path / "a.o") == b"06000000"
    assert counts(zc) == (2, 1)


def test_has_include_of_a_computed_name_is_passed_through(zc, tmp_path):
    write(tmp_path / "a.c", '#define NAME "opt.h"\n#if __has_include(NAME)\nint x = 1;\n#else\nint x = 2;\n#endif\n')
    for _ in range(2):
        checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "a.o"], ["a.o"])
    assert zc.stats()["uncacheable"] == {"__has_include of a computed name": 2}
    # the fallback definition headers give older compilers (libc++'s, clang's stdint.h)
    # names no header: cached
    write(tmp_path / "b.c", "#ifndef __has_include\n#  define __has_include(...) 0\n#endif\n"
          "#if __has_include(<nothere.h>)\nint y = 1;\n#endif\nint z = 3;\n")
    for _ in range(2):
        checked(zc, tmp_path, "gcc", ["-c", "b.c", "-o", "b.o"], ["b.o"])
    assert counts(zc) == (1, 1)


# -- profiles (ccache: profiling*.bash) --------------------------------------------------------

PROGRAM = "int main(int argc, char **argv) { int s = 0; for (int i = 0; i < argc * 1000; i++) s += i % 7 ? 1 : 2; return s == 3; }\n"


def run_program(path: Path, *args: str, env=None) -> None:
    subprocess.run([str(path), *args], cwd=path.parent, env=env, check=False, capture_output=True)


@pytest.mark.parametrize("where", ["beside the object", "profile dir"])
def test_gcc_profile_use_keys_on_the_feedback_file(zc, tmp_path, where):
    write(tmp_path / "t.c", PROGRAM)
    (tmp_path / "obj").mkdir()
    (tmp_path / "data").mkdir()
    gen = ["-fprofile-generate"] if where == "beside the object" else ["-fprofile-generate=data"]
    use = ["-fprofile-use"] if where == "beside the object" else ["-fprofile-use=data"]
    # instrumented compiles are cached too (the object names its .gcda path, which is
    # keyed); gcc stamps them with the clock, so a hit gives back what the miss made
    made = []
    for _ in range(2):
        done = zc.run("gcc", "-O2", *gen, "-c", "t.c", "-o", "obj/t.o", cwd=tmp_path)
        assert (done.returncode, done.stderr) == (0, b"")
        made.append((tmp_path / "obj" / "t.o").read_bytes())
    assert made[0] == made[1] and counts(zc) == (1, 1)
    assert zc.plain("gcc", *gen, "obj/t.o", "-o", "t", cwd=tmp_path).returncode == 0
    run_program(tmp_path / "t")
    assert list(tmp_path.rglob("*.gcda"))
    args = ["-O2", *use, "-c", "t.c", "-o", "obj/t.o"]
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["obj/t.o"])
    assert counts(zc) == (2, 2)
    run_program(tmp_path / "t", "more", "arguments", "change", "the", "counts")
    checked(zc, tmp_path, "gcc", args, ["obj/t.o"])
    assert counts(zc) == (3, 2)


@pytest.mark.parametrize("option", ["-fprofile-instr-use", "-fprofile-use=prof.profdata"])
def test_clang_profile_use_keys_on_the_profdata(zc, tmp_path, option):
    need("clang", "clang")
    profdata = shutil.which("llvm-profdata-14") or need("llvm-profdata", "llvm")
    write(tmp_path / "t.c", PROGRAM)
    assert zc.plain("clang", "-O2", "-fprofile-instr-generate", "t.c", "-o", "t", cwd=tmp_path).returncode == 0
    target = "default.profdata" if "=" not in option else option.split("=", 1)[1]

    def profile(*args: str) -> None:
        run_program(tmp_path / "t", *args, env={"LLVM_PROFILE_FILE": str(tmp_path / "t.profraw")})
        merged = subprocess.run([profdata, "merge", "-o", target, "t.profraw"], cwd=tmp_path, capture_output=True)
        assert merged.returncode == 0, merged.stderr

    profile()
    args = ["-O2", option, "-c", "t.c", "-o", "t.o"]
    for _ in range(2):
        checked(zc, tmp_path, "clang", args, ["t.o"])
    assert counts(zc) == (1, 1)
    profile("more", "arguments", "change", "the", "counts")
    checked(zc, tmp_path, "clang", args, ["t.o"])
    assert counts(zc) == (2, 1)


# -- other files named on the command line (ccache: sanitize_ignorelist.bash) ---------------


def test_sanitizer_ignorelist_is_in_the_key(zc, tmp_path):
    """clang reads the list by name (gcc 12 has no such lists)."""
    cc = need("clang", "clang")
    write(tmp_path / "a.c", "int f(int *p) { return *p; }\nint g(int *p) { return *p + 1; }\n")
    write(tmp_path / "ignore.txt", "fun:f\n")
    args = ["-fsanitize=address", "-fsanitize-ignorelist=ignore.txt", "-c", "a.c", "-o", "a.o"]
    for _ in range(2):
        checked(zc, tmp_path, cc, args, ["a.o"])
    assert counts(zc) == (1, 1)
    write(tmp_path / "ignore.txt", "fun:g\n")
    checked(zc, tmp_path, cc, args, ["a.o"])
    assert counts(zc) == (2, 1)


@pytest.mark.parametrize("option", ["-ivfsoverlay", "-fthinlto-index=x.thinlto.bc"])
def test_options_reading_files_out_of_reach_are_passed_through(zc, tmp_path, option):
    need("clang", "clang")
    write(tmp_path / "a.c", "int a;\n")
    args = [option, "overlay.yaml"] if option == "-ivfsoverlay" else [option]
    done = zc.run("clang", *args, "-c", "a.c", "-o", "a.o", cwd=tmp_path)
    plain = zc.plain("clang", *args, "-c", "a.c", "-o", "a.o", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (plain.returncode, plain.stderr)
    stats = zc.stats()
    assert stats["hits"] == stats["misses"] == 0 and stats["uncacheable_total"] == 1


# -- outputs that are no files, and inputs no depfile lists (ccache: base.bash) ----------------


@pytest.mark.parametrize("family", FAMILIES)
def test_dev_null_outputs_are_left_alone(zc, tmp_path, family):
    """-o /dev/null passes through; -MF /dev/null (autoconf's) is cached with its
    headers found by a scan of their own, so a header edit still misses. /dev/null
    stays the device it was."""
    cc, _ = compiler_pair(family)
    write(tmp_path / "h.h", "#define H 1\n")
    write(tmp_path / "a.c", '#include "h.h"\nint x = H;\n')
    device = Path("/dev/null").stat()
    for _ in range(2):
        assert zc.run(cc, "-c", "a.c", "-o", "/dev/null", cwd=tmp_path).returncode == 0
        checked(zc, tmp_path, cc, ["-MD", "-MF", "/dev/null", "-c", "a.c", "-o", "a.o"], ["a.o"])
    assert counts(zc) == (1, 1)
    assert zc.stats()["uncacheable"] == {"output is not a regular file": 2}
    write(tmp_path / "h.h", "#define H 2\n")
    checked(zc, tmp_path, cc, ["-MD", "-MF", "/dev/null", "-c", "a.c", "-o", "a.o"], ["a.o"])
    assert data_of(tmp_path / "a.o") == b"02000000"
    after = Path("/dev/null").stat()
    assert (after.st_mode, after.st_rdev, after.st_ino) == (device.st_mode, device.st_rdev, device.st_ino)


def test_march_native_is_cached(zc, tmp_path):
    write(tmp_path / "a.c", "int f(int *v, int n) { int s = 0; for (int i = 0; i < n; i++) s += v[i]; return s; }\n")
    for _ in range(2):
        checked(zc, tmp_path, "gcc", ["-O3", "-march=native", "-c", "a.c", "-o", "a.o"], ["a.o"])
    assert counts(zc) == (1, 1)


def test_extra_files_join_the_key(zc, tmp_path):
    """ZCCACHE_EXTRAFILES (ccache's extra_files_to_hash): files a wrapper or a plugin
    reads that the compiler cannot name."""
    write(tmp_path / "a.c", "int a;\n")
    write(tmp_path / "flags.txt", "one\n")
    env = {"ZCCACHE_EXTRAFILES": f"flags.txt:{tmp_path / 'absent.txt'}"}
    for _ in range(2):
        checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "a.o"], ["a.o"], env=env)
    write(tmp_path / "flags.txt", "two\n")
    checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "a.o"], ["a.o"], env=env)
    write(tmp_path / "absent.txt", "here now\n")
    checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "a.o"], ["a.o"], env=env)
    assert counts(zc) == (3, 1)


# -- prefix maps (ccache: debug_prefix_map.bash) ------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_file_prefix_map_shares_debug_builds_between_checkouts(zc, tmp_path, family):
    """-g embeds the working directory; -ffile-prefix-map=$PWD=. takes it out, so two
    checkouts share the object, and a hit is what the compiler makes in each."""
    cc, _ = compiler_pair(family)
    for name in ("one", "two"):
        write(tmp_path / name / "inc" / "h.h", "#define H 3\n")
        write(tmp_path / name / "a.c", '#include "inc/h.h"\nint f(void) { return H; }\n')
    for name, expected in (("one", (1, 0)), ("two", (1, 1))):
        cwd = tmp_path / name
        checked(zc, cwd, cc, ["-g", f"-ffile-prefix-map={cwd}=.", "-c", "a.c", "-o", "a.o"], ["a.o"])
        assert counts(zc) == expected
    # a debug map alone leaves __FILE__ naming the real path: the directory stays in the key
    for name in ("one", "two"):
        cwd = tmp_path / name
        checked(zc, cwd, cc, ["-g", f"-fdebug-prefix-map={cwd}=.", "-c", "a.c", "-o", "a.o"], ["a.o"])
    assert counts(zc) == (3, 1)


# -- entries recorded while files were fresh (the daemon settles them in memory) --------------


def test_entry_recorded_while_fresh_still_sees_later_changes(zc, tmp_path):
    """A compile right after a checkout records headers and directories whose stat is
    too recent to trust; once settled, the daemon's copy of the entry keeps their new
    signatures. A later edit of the header (same size) or a new shadowing header must
    still miss."""
    write(tmp_path / "b" / "util.h", "#define UTIL 1\n")
    (tmp_path / "a").mkdir()
    write(tmp_path / "src" / "main.c", '#include "util.h"\nint x = UTIL;\n')
    args = ["-Ia", "-Ib", "-c", "src/main.c", "-o", "main.o"]
    checked(zc, tmp_path, "gcc", args, ["main.o"])
    time.sleep(RACY_SECONDS + 0.2)
    for _ in range(2):  # hits that find the files settled
        checked(zc, tmp_path, "gcc", args, ["main.o"])
    assert counts(zc) == (1, 2)
    write(tmp_path / "b" / "util.h", "#define UTIL 2\n")  # same size
    checked(zc, tmp_path, "gcc", args, ["main.o"])
    assert data_of(tmp_path / "main.o") == b"02000000"
    time.sleep(RACY_SECONDS + 0.2)
    checked(zc, tmp_path, "gcc", args, ["main.o"])
    assert counts(zc) == (2, 3)
    write(tmp_path / "a" / "util.h", "#define UTIL 3\n")  # shadows b/util.h
    checked(zc, tmp_path, "gcc", args, ["main.o"])
    assert data_of(tmp_path / "main.o") == b"03000000"
    assert counts(zc) == (3, 3)
