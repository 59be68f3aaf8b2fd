"""What a compile reads or writes that neither its depfile nor its command line
names: the assembler's .incbin and .include, specs files, the driver's program
search (-B, COMPILER_PATH, GCC_EXEC_PREFIX, PATH), environment-named depfiles, and
options whose extra files are cached or passed through.

Each test changes the input a compile reads behind the preprocessor's back and
checks that zccache gives exactly what the plain compiler gives for the files as
they are now. docs/compiler-features.md ("Inputs no depfile names") lists every
row with its test. The client makes no difference here: one (the native launcher)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from support import need, no_traceback, write
from support.checks import checked

pytestmark = pytest.mark.parametrize("zc", ["native"], indirect=True)


def counts(zc) -> tuple[int, int, dict]:
    stats = zc.stats()
    return stats["misses"], stats["hits"], stats["uncacheable"]


def section(obj: Path, name: str) -> bytes:
    """The section's bytes in hex, as objdump -s prints them (hex columns only)."""
    done = subprocess.run(["objdump", "-s", "-j", name, str(obj)], capture_output=True, check=True)
    return b"".join(b"".join(line[6:41].split()) for line in done.stdout.splitlines() if line.startswith(b" 0"))


def rodata(obj: Path) -> bytes:
    return section(obj, ".rodata")


# -- the assembler's inputs --------------------------------------------------------------

INLINE_INCBIN = 'asm(".section .rodata\\n.incbin \\"blob.bin\\"\\n.previous");\nint x;\n'
INLINE_INCLUDE = 'asm(".section .rodata\\n.include \\"part.s\\"\\n.previous");\nint x;\n'


@pytest.mark.parametrize("where", ["c-source", "header", "S-source"])
def test_incbin_is_keyed_on_the_file_it_reads(zc, tmp_path, where):
    """gcc's assembler lists what it read (as --MD): .incbin is cached, and a
    changed blob misses, in a C source, a header, or a .S file."""
    source = "a.S" if where == "S-source" else "a.c"
    if where == "S-source":
        write(tmp_path / "a.S", '.section .rodata\n.incbin "blob.bin"\n')
    elif where == "header":
        write(tmp_path / "blob.h", INLINE_INCBIN)
        write(tmp_path / "a.c", '#include "blob.h"\n')
    else:
        write(tmp_path / "a.c", INLINE_INCBIN)
    write(tmp_path / "blob.bin", "AAAA")
    args = ["-c", source, "-o", "a.o"]
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert counts(zc)[:2] == (1, 1)
    write(tmp_path / "blob.bin", "BBBB")
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert rodata(tmp_path / "a.o") == b"42424242"
    assert counts(zc)[:2] == (2, 1)


def test_assembler_include_search_and_shadowing(zc, tmp_path):
    """.include is looked up in the working directory, then each -Wa,-I directory:
    a file appearing in an earlier place misses, its removal hits the first entry."""
    write(tmp_path / "a.c", INLINE_INCLUDE)
    write(tmp_path / "inc" / "part.s", ".byte 1\n")
    args = ["-Wa,-Iinc", "-c", "a.c", "-o", "a.o"]
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["a.o"])
    write(tmp_path / "part.s", ".byte 2\n")
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert rodata(tmp_path / "a.o") == b"02"
    (tmp_path / "part.s").unlink()
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert rodata(tmp_path / "a.o") == b"01"
    write(tmp_path / "inc" / "part.s", ".byte 3\n")
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert rodata(tmp_path / "a.o") == b"03"
    assert counts(zc)[:2] == (3, 2)


def test_assembler_source_is_cached_with_its_includes(zc, tmp_path):
    """A .s file (no preprocessor, no depfile): the assembler's own list keys it."""
    write(tmp_path / "a.s", '.section .rodata\n.include "part.s"\n')
    write(tmp_path / "part.s", ".byte 5\n")
    for _ in range(2):
        checked(zc, tmp_path, "gcc", ["-c", "a.s", "-o", "a.o"], ["a.o"])
    write(tmp_path / "part.s", ".byte 6\n")
    checked(zc, tmp_path, "gcc", ["-c", "a.s", "-o", "a.o"], ["a.o"])
    assert rodata(tmp_path / "a.o") == b"06"
    assert counts(zc)[:2] == (2, 1)


@pytest.mark.parametrize("directive", ["incbin", "include"])
def test_clang_assembler_directives_pass_through(zc, tmp_path, directive):
    """clang's integrated assembler lists nothing it read: such a compile passes through."""
    need("clang", "clang")
    write(tmp_path / "a.c", INLINE_INCBIN if directive == "incbin" else INLINE_INCLUDE)
    write(tmp_path / "blob.bin", "AAAA")
    write(tmp_path / "part.s", ".byte 1\n")
    for content in ("CCCC", "DDDD"):
        write(tmp_path / "blob.bin", content)
        write(tmp_path / "part.s", f".byte {len(content) + ord(content[0])}\n")
        checked(zc, tmp_path, "clang", ["-c", "a.c", "-o", "a.o"], ["a.o"])
    misses, hits, why = counts(zc)
    assert (misses, hits) == (0, 0)
    assert why == {"assembler directive reading a file (.incbin, .include)": 2}


def test_preprocessor_mode_refuses_assembler_directives(zc, tmp_path):
    """Preprocessor mode keys on the -E text, which does not hold what .incbin reads."""
    write(tmp_path / "a.c", INLINE_INCBIN)
    env = {"ZCCACHE_DIRECT": "0"}
    for content in ("AAAA", "BBBB"):
        write(tmp_path / "blob.bin", content)
        checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "a.o"], ["a.o"], env=env)
    assert counts(zc) == (0, 0, {"assembler directive reading a file (.incbin, .include)": 2})


def test_distcc_style_prefix_refuses_assembler_directives(zc, tmp_path):
    """Under ZCCACHE_PREFIX the assembler runs elsewhere and lists nothing back."""
    write(tmp_path / "a.c", INLINE_INCBIN)
    write(tmp_path / "blob.bin", "AAAA")
    env = {"ZCCACHE_PREFIX": "env"}
    checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "a.o"], ["a.o"], env=env)
    assert counts(zc) == (0, 0, {"assembler directive reading a file (.incbin, .include)": 1})


def test_pragma_gcc_dependency_passes_through(zc, tmp_path):
    """It warns by the files' times, which no key holds: the warning is the compiler's."""
    write(tmp_path / "parse.y", "x\n")
    write(tmp_path / "a.c", '#pragma GCC dependency "parse.y"\nint q;\n')
    os.utime(tmp_path / "a.c", (1_000_000_000, 1_000_000_000))
    checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "a.o"], ["a.o"])
    assert counts(zc) == (0, 0, {"#pragma GCC dependency": 1})


# -- the driver: specs, -B, COMPILER_PATH, GCC_EXEC_PREFIX, PATH ---------------------------

VALUE_C = "int v = VAL;\n"


def data_word(obj: Path) -> bytes:
    return section(obj, ".data")


@pytest.mark.parametrize("form", ["-specs=my.specs", "-specs my.specs", "specs in a -B directory"])
def test_specs_file_is_in_the_key(zc, tmp_path, form):
    """A specs file named on the command line, or the one gcc reads at start-up from
    its library prefixes (-B adds one) with no option naming it: a change misses."""
    write(tmp_path / "a.c", "#ifndef VAL\n#define VAL 1\n#endif\n" + VALUE_C)
    if form.startswith("-specs"):
        specs = tmp_path / "my.specs"
        write(specs, "*cpp:\n+ -DVAL=1\n")
        args = [*form.split(), "-c", "a.c", "-o", "a.o"]
    else:
        specs = tmp_path / "tools" / "specs"
        args = ["-B", f"{tmp_path / 'tools'}/", "-c", "a.c", "-o", "a.o"]
        (tmp_path / "tools").mkdir()
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["a.o"])
    write(specs, "*cpp:\n+ -DVAL=2\n")
    checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert data_word(tmp_path / "a.o") == b"02000000"
    assert counts(zc)[:2] == (2, 1)


def test_specs_file_with_include_passes_through(zc, tmp_path):
    write(tmp_path / "a.c", VALUE_C)
    write(tmp_path / "more.specs", "*cpp:\n+ -DVAL=3\n")
    write(tmp_path / "my.specs", f"%include <{tmp_path / 'more.specs'}>\n")
    checked(zc, tmp_path, "gcc", ["-specs=my.specs", "-c", "a.c", "-o", "a.o"], ["a.o"])
    assert counts(zc) == (0, 0, {"specs file with %include": 1})


def test_recorded_switches_are_the_compilers_own(zc, tmp_path):
    """What zccache adds on a miss (its depfile, the assembler's list) is not
    recorded in the object by -frecord-gcc-switches or -g's producer string."""
    write(tmp_path / "a.c", "int f(int x) { return x + 1; }\n")
    args = ["-frecord-gcc-switches", "-g", "-c", "a.c", "-o", "a.o"]
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["a.o"])
    assert counts(zc)[:2] == (1, 1)
    assert b"-Wa," not in (tmp_path / "a.o").read_bytes() and b"-MF" not in (tmp_path / "a.o").read_bytes()


ASSEMBLER_WRAPPER = """#!/bin/sh
# an assembler in front of the real one that adds a word to every object
printf '.data\\n.long {word}\\n' > "$TMPDIR/zc-extra-$$.s"
/usr/bin/as "$@" "$TMPDIR/zc-extra-$$.s"; rc=$?
rm -f "$TMPDIR/zc-extra-$$.s"
exit $rc
"""


@pytest.mark.parametrize("how", ["-B", "COMPILER_PATH", "PATH"])
def test_assembler_found_by_the_driver_is_in_the_key(zc, tmp_path, how):
    """An as that appears, or changes, where the driver looks for it misses."""
    tools = tmp_path / "tools"
    tools.mkdir()
    write(tmp_path / "a.c", "int v = 1;\n")
    env = {"TMPDIR": str(tmp_path)}
    args = ["-c", "a.c", "-o", "a.o"]
    if how == "-B":
        args = ["-B", f"{tools}/", *args]
    elif how == "COMPILER_PATH":
        env["COMPILER_PATH"] = str(tools)
    else:
        env["PATH"] = f"{tools}{os.pathsep}{zc.env['PATH']}"
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["a.o"], env=env)
    for word in (77, 78):
        write(tools / "as", ASSEMBLER_WRAPPER.format(word=word))
        (tools / "as").chmod(0o755)
        checked(zc, tmp_path, "gcc", args, ["a.o"], env=env)
        assert data_word(tmp_path / "a.o") == b"01000000" + bytes(f"{word:02x}000000", "ascii")
    (tools / "as").unlink()
    checked(zc, tmp_path, "gcc", args, ["a.o"], env=env)
    assert data_word(tmp_path / "a.o") == b"01000000"
    assert counts(zc)[:2] == (3, 2)


def test_compiler_proper_found_by_gcc_exec_prefix_is_in_the_key(zc, tmp_path):
    """GCC_EXEC_PREFIX names where the driver finds cc1: a changed cc1 there misses."""
    real_cc1 = subprocess.run(["gcc", "-print-prog-name=cc1"], capture_output=True, text=True).stdout.strip()
    machine = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True).stdout.strip()
    version = subprocess.run(["gcc", "-dumpversion"], capture_output=True, text=True).stdout.strip()
    prefix = tmp_path / "prefix"
    wrapper = prefix / machine / version / "cc1"
    write(tmp_path / "a.c", "#ifdef EXTRA\nint w = 9;\n#endif\nint v = 1;\n")
    env = {"GCC_EXEC_PREFIX": f"{prefix}/"}
    args = ["-c", "a.c", "-o", "a.o"]
    for extra in ("", "-DEXTRA"):
        write(wrapper, f'#!/bin/sh\nexec {real_cc1} {extra} "$@"\n')
        wrapper.chmod(0o755)
        for _ in range(2):
            checked(zc, tmp_path, "gcc", args, ["a.o"], env=env)
    assert data_word(tmp_path / "a.o") == b"0900000001000000"
    assert counts(zc)[:2] == (2, 2)


# -- outputs the command line does not name -----------------------------------------------


@pytest.mark.parametrize("variable", ["DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES"])
@pytest.mark.parametrize("target", ["", " mytarget"])
def test_environment_depfile_is_appended_on_a_hit(zc, tmp_path, variable, target):
    """gcc appends a rule to the file the variable names; a hit appends the same bytes."""
    write(tmp_path / "h.h", "#define H 1\n")
    write(tmp_path / "a.c", '#include <stdio.h>\n#include "h.h"\nint x = H;\n')
    env = {variable: "deps.txt" + target}
    before = {"deps.txt": "earlier rules\n"}
    for _ in range(2):
        checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "out.o"], ["out.o", "deps.txt"], env=env, appended=before)
    assert counts(zc)[:2] == (1, 1)
    text = (tmp_path / "deps.txt").read_text()
    assert text.startswith("earlier rules\n") and "h.h" in text
    assert ("stdio.h" in text) == (variable == "SUNPRO_DEPENDENCIES")
    write(tmp_path / "h.h", "#define H 2\n")
    checked(zc, tmp_path, "gcc", ["-c", "a.c", "-o", "out.o"], ["out.o", "deps.txt"], env=env, appended=before)
    assert counts(zc)[:2] == (2, 1)


def test_environment_depfile_with_the_command_lines_own(zc, tmp_path):
    """With -MD on the command line gcc ignores the variable; so does a hit."""
    write(tmp_path / "a.c", "int x;\n")
    env = {"DEPENDENCIES_OUTPUT": "deps.txt"}
    for _ in range(2):
        checked(zc, tmp_path, "gcc", ["-MD", "-c", "a.c", "-o", "a.o"], ["a.o", "a.d"], env=env)
        assert not (tmp_path / "deps.txt").exists()
    assert counts(zc)[:2] == (1, 1)


def test_environment_depfile_with_clang(zc, tmp_path):
    """clang 14 writes no such file; nor does a hit."""
    need("clang", "clang")
    write(tmp_path / "a.c", "int x;\n")
    env = {"DEPENDENCIES_OUTPUT": "deps.txt"}
    for _ in range(2):
        checked(zc, tmp_path, "clang", ["-c", "a.c", "-o", "a.o"], ["a.o"], env=env)
        assert not (tmp_path / "deps.txt").exists()
    assert counts(zc)[:2] == (1, 1)


def test_callgraph_info_is_restored(zc, tmp_path):
    write(tmp_path / "a.c", "int f(int x) { return x + 1; }\n")
    (tmp_path / "out").mkdir()
    args = ["-fcallgraph-info=su", "-c", "a.c", "-o", "out/a.o"]
    for _ in range(2):
        checked(zc, tmp_path, "gcc", args, ["out/a.o", "out/a.ci"])
    assert counts(zc)[:2] == (1, 1)


@pytest.mark.parametrize("option", ["-fprofile-list=list.txt", "-fsanitize-coverage-allowlist=list.txt"])
def test_clang_files_named_by_an_option_are_in_the_key(zc, tmp_path, option):
    need("clang", "clang")
    write(tmp_path / "a.c", "int f(int x) { return x ? 1 : 2; }\nint g(int x) { return x ? 3 : 4; }\n")
    extra = ["-fprofile-instr-generate"] if "profile" in option else ["-fsanitize-coverage=trace-pc-guard"]
    args = [*extra, option, "-c", "a.c", "-o", "a.o"]
    write(tmp_path / "list.txt", "fun:f\n" if "profile" in option else "fun:f\n")
    for _ in range(2):
        checked(zc, tmp_path, "clang", args, ["a.o"])
    write(tmp_path / "list.txt", "fun:g\n")
    checked(zc, tmp_path, "clang", args, ["a.o"])
    assert counts(zc)[:2] == (2, 1)


PASSED_THROUGH = [
    ("gcc", ["-save-temps"], "unsupported option -save-temps"),
    ("gcc", ["-fdump-tree-original"], "unsupported option -fdump-tree-original"),
    ("gcc", ["-ftime-report"], "unsupported option -ftime-report"),
    ("gcc", ["-aux-info", "aux.txt"], "unsupported option -aux-info"),
    ("gcc", ["-fopt-info-all=opt.txt", "-O2"], "unsupported option -fopt-info-all"),
    ("gcc", ["-fplugin=./none.so"], "unsupported option -fplugin"),
    ("gcc", ["-wrapper", "env"], "unsupported option -wrapper"),
    ("clang", ["-ftime-trace"], "unsupported option -ftime-trace"),
    ("clang", ["-MJ", "frag.json"], "unsupported option -MJ"),
    ("clang", ["-fmodules", "-fmodules-cache-path=mc"], "unsupported option -fmodules"),
    ("clang", ["-B", "."], "unsupported option -B (clang)"),
    ("clang", ["--config", "none.cfg"], "unsupported option --config"),
    ("gcc", ["-Wa,-adhln=a.lst"], "assembler listing output"),
]


def test_clang_environment_outputs_pass_through(zc, tmp_path):
    """CC_PRINT_HEADERS (and clang's other CC_* logs) append to a file only the
    environment names."""
    need("clang", "clang")
    write(tmp_path / "a.c", "#include <stddef.h>\nint x;\n")
    env = {"CC_PRINT_HEADERS": "1", "CC_PRINT_HEADERS_FILE": "headers.txt"}
    for _ in range(2):
        assert zc.run("clang", "-c", "a.c", "-o", "a.o", cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "headers.txt").read_text().count("stddef.h") == 2
    assert counts(zc) == (0, 0, {"CC_PRINT_HEADERS set": 2})


@pytest.mark.parametrize("compiler,options,reason", PASSED_THROUGH, ids=[" ".join(o) for _, o, _ in PASSED_THROUGH])
def test_options_writing_or_reading_unnamed_files_pass_through(zc, tmp_path, compiler, options, reason):
    need(compiler, compiler)
    write(tmp_path / "a.c", "int f(int x) { return x + 1; }\n")
    done = zc.run(compiler, *options, "-c", "a.c", "-o", "a.o", cwd=tmp_path)
    plain = zc.plain(compiler, *options, "-c", "a.c", "-o", "a.o", cwd=tmp_path)
    no_traceback(done)
    assert done.returncode == plain.returncode
    assert counts(zc) == (0, 0, {reason: 1})
