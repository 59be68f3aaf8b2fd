"""The command-line, depfile and settings parsers, called directly: what each
command line means to the gcc family, without running a compiler."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zccache_wire as wire
from zccache.core.invocation import Passthrough
from zccache.core.manifest import INCBIN, PRAGMA_DEPENDENCY, reads_by_name
from zccache.core.toolchains import cmdline
from zccache.core.toolchains.cmdline import parse_depfile, split_response
from zccache.core.toolchains.gcc import _env_depfile, assembler_inputs, parse_args
from zccache.core.toolchains.gcc_options import OPTIONS, is_longer_option


@pytest.mark.parametrize("args,reason", [
    (["-E", "a.c"], "preprocess only (-E)"),
    (["-c", "a.c", "-save-temps"], "unsupported option -save-temps"),
    (["-c", "a.c", "-wrapper", "gdb,--args"], "unsupported option -wrapper"),
    (["-c", "a.c", "-ftime-report"], "unsupported option -ftime-report"),
    (["-c", "a.c", "-fplugin=x.so"], "unsupported option -fplugin"),
    (["-c", "a.c", "-Wa,-adhln=a.lst"], "assembler listing output"),
    (["a.c", "-o", "app"], "not compiling (linking or other)"),
    (["-c", "-"], "input from stdin"),
    (["-c", "a.c", "b.o"], "non-source input"),
])
def test_passed_through_with_the_reason(args, reason):
    parsed = parse_args(args)
    assert isinstance(parsed, Passthrough) and parsed.reason == reason


def test_what_a_compile_says():
    p = parse_args(["-c", "src/a.c", "-o", "out/a.o", "-MD", "-MF", "out/a.d", "-Iinc", "-B", "/opt/tools/",
                    "-specs=my.specs", "-Wa,-Iasm,-I,more", "-fcallgraph-info=su", "-fstack-usage", "-m64",
                    "--sysroot", "/sr", "-fprofile-list=fl.txt"])
    assert not isinstance(p, Passthrough)
    assert (p.output, p.mode, p.depfile, p.md) == ("out/a.o", "-c", "out/a.d", True)
    assert p.sources == [(1, "src/a.c", "c")]
    assert p.exec_prefixes == ["/opt/tools/"] and p.specs == ["my.specs"]
    assert p.driver_args == ["-B/opt/tools/", "-m64", "--sysroot=/sr"]
    assert p.asm_dirs == ["asm", "more"]
    assert p.callgraph_info and p.stack_usage and p.read_files == ["fl.txt"]


def test_language_by_extension_and_by_x():
    assert parse_args(["-c", "a.S"]).sources[0][2] == "assembler-with-cpp"
    assert parse_args(["-c", "a.s"]).sources[0][2] == "assembler"
    assert parse_args(["-x", "c++", "-c", "a.inl"]).sources[0][2] == "c++"


def test_depfile_rules_and_escapes():
    text = "a.o: a.c inc/h.h \\\n  /usr/include/stdio.h sp\\ ace.h $$dollar.h\ninc/h.h:\n"
    assert parse_depfile(text) == ["a.c", "inc/h.h", "/usr/include/stdio.h", "sp ace.h", "$dollar.h"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab./-_:\t \\$#\n", max_size=40), max_size=6))
def test_depfile_lines_without_escapes_read_as_the_escaping_reader_reads_them(lines):
    """parse_depfile splits a line with no backslash or $ by str.split; the
    per-character reader must give the same words."""
    text = "\n".join(lines)
    slow: list[str] = []
    for line in text.replace("\\\r\n", " ").replace("\\\n", " ").splitlines():
        colon = cmdline._rule_colon(line)
        if colon >= 0:
            slow.extend(cmdline._split_make_words(line[colon + 1 :]))
    assert parse_depfile(text) == list(dict.fromkeys(slow))


def test_response_file_words():
    assert split_response('-DA="x y" \'-DB=z w\' -I\\ dir\n-c') == ["-DA=x y", "-DB=z w", "-I dir", "-c"]


def test_environment_depfile_values():
    assert _env_depfile({"DEPENDENCIES_OUTPUT": "deps.d"}) == ("DEPENDENCIES_OUTPUT", "deps.d", "")
    assert _env_depfile({"SUNPRO_DEPENDENCIES": "d.d my target"}) == ("SUNPRO_DEPENDENCIES", "d.d", "my target")
    assert _env_depfile({"DEPENDENCIES_OUTPUT": "a.d", "SUNPRO_DEPENDENCIES": "b.d"})[0] == "DEPENDENCIES_OUTPUT"
    assert _env_depfile({"DEPENDENCIES_OUTPUT": ""}) is None


def test_assembler_inputs_and_their_shadow_places(tmp_path: Path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "part.s").write_text(".byte 1\n")
    (tmp_path / "blob.bin").write_bytes(b"x")
    (tmp_path / "a.c").write_text("int x;\n")
    listed = ["inc/part.s", "blob.bin", "a.c", "/tmp/ccXXXXXX.s", "h.h"]
    read, absent = assembler_inputs(str(tmp_path), listed, ["other", "inc"], {str(tmp_path / "a.c")})
    assert read == ["inc/part.s", "blob.bin"]  # the source is the preprocessor's; gone temporaries and names are not files
    assert absent == [str(tmp_path / "part.s"), str(tmp_path / "other" / "part.s")]


@pytest.mark.parametrize("text,why", [
    (b'asm(".incbin \\"x\\"");', INCBIN),
    (b'  .include "x.s"\n', INCBIN),
    (b'asm("\\t.incbin \\"b\\"");', INCBIN),
    (b'#pragma GCC dependency "parse.y"\n', PRAGMA_DEPENDENCY),
    (b'_Pragma("GCC dependency \\"parse.y\\"")', PRAGMA_DEPENDENCY),
    (b"#include <stdio.h>\n", ""),
    (b"// see the `.include` directives\n", ""),
    (b"x.include = 1;\n", ""),
])
def test_text_that_makes_a_program_read_a_file(text, why):
    assert reads_by_name(text) == why


def test_settings_mean_one_thing():
    assert [wire.switch({"X": v}, "X", True) for v in ("", " ", "0", " OFF ", "no", "1", "yes", "maybe")] == \
        [True, True, False, False, False, True, True, True]
    assert wire.switch({}, "X", False) is False
    assert [wire.seconds({"T": v}, "T", 10.0) for v in ("0.5", "abc", "-1", "0", "1e2", "0x10", "inf", "1_0")] == \
        [0.5, 10.0, 10.0, 10.0, 100.0, 10.0, 10.0, 10.0]
    assert not wire.client_wants_daemon({"ZCCACHE_DISABLE": "1"})
    assert wire.client_wants_daemon({"ZCCACHE_DISABLE": ""})


def test_socket_name_follows_the_cache_dir_and_the_remote(tmp_path: Path):
    base = {"ZCCACHE_CACHE_DIR": str(tmp_path / "c"), "ZCCACHE_RUNTIME_DIR": str(tmp_path / "r")}
    one = wire.daemon_paths(base)[1]
    assert wire.daemon_paths({**base, "ZCCACHE_REMOTE": ""})[1] == one
    assert wire.daemon_paths({**base, "ZCCACHE_REMOTE": "redis://h/0"})[1] != one
    assert wire.daemon_paths({**base, "ZCCACHE_CACHE_DIR": str(tmp_path / "c" / ".")})[1] == one
    assert os.path.dirname(one) == str(tmp_path / "r")


def test_the_codec_round_trips():
    sample = {"t": "CompileEphemeral", "args": ["-c", "é" * 40], "stdin": b"\x00\xff", "n": -5, "big": 1 << 40,
              "ok": True, "none": None, "f": 1.5}
    assert wire.unpack(wire.pack(sample)) == sample
    with pytest.raises(wire.WireError):
        wire.unpack(wire.pack(sample)[:-1])


def test_each_option_once_and_the_sets_follow_from_the_table():
    from zccache.core.toolchains import gcc_options as o

    assert "-B" in o.TAKES_VALUE and "-B" in o.ATTACHED and "-B" in o.SEARCH_PREFIXES
    assert o.OPTIONS["-B"].value == "either"
    assert "-MJ" in o.TAKES_VALUE and "-MJ" in o.PASSTHROUGH_PREFIXES
    assert is_longer_option("-Ttext-segment=0x1000") and not is_longer_option("-Tlink.ld")
    assert parse_args(["-c", "a.c", "-Tlink.ld"]).sources == [(1, "a.c", "c")]
    assert all(name.startswith("-") for name in OPTIONS)


# -- cl.exe syntax (msvc_cmdline.py) --------------------------------------------------------


def test_cl_response_files_split_as_windows_does(tmp_path: Path):
    from zccache.core.toolchains.msvc_cmdline import expand, split_windows

    assert split_windows('a "b c" d\\e "f\\"g" h\\\\"i j" ""') == ["a", "b c", "d\\e", 'f"g', "h\\i j", ""]
    assert split_windows('"a ""quoted"" word"') == ['a "quoted" word']
    (tmp_path / "u16.rsp").write_bytes('/c a.c /DX="1 2"'.encode("utf-16"))  # with its byte-order mark
    (tmp_path / "outer.rsp").write_text("/nologo @u16.rsp")
    assert expand(["@outer.rsp", "/Foa.obj"], str(tmp_path)) == ["/nologo", "/c", "a.c", "/DX=1 2", "/Foa.obj"]


@pytest.mark.parametrize("args, reason", [
    (["/c", "a.c", "/Fa"], "unsupported option /Fa"),
    (["/c", "a.c", "/Yc"], "unsupported option /Yc"),
    (["/c", "a.c", "/showIncludes:user"], "unsupported option /showIncludes:user"),
    (["/c", "a.c", "/Yupch.h"], "/Yu without a header and /Fp"),
    (["a.c"], "not compiling (linking or other)"),
    (["/c", "a.c", "b.c"], "multiple sources"),
    (["/c", "a.rc"], "non-source input"),
    (["/c", "a.c", "--frob"], "unsupported option --frob"),
    (["/c", "a.c", "/clang:-MD"], "unsupported option /clang:-MD"),
])
def test_cl_lines_that_pass_through(args, reason):
    from zccache.core.toolchains.msvc_cmdline import parse

    assert parse(args, "/nonexistent") == reason


def test_what_a_cl_line_says():
    from zccache.core.toolchains.msvc_cmdline import object_path, parse

    line = parse(["/nologo", "-TP", "/I", "inc", "/DA=1", "/Foout/", "/Fdx.pdb", "/Z7", "-c", "--", "/src/a.c"],
                 "/nonexistent")
    assert line.sources == [("/src/a.c", "c++")] and line.debug and line.include_dirs == ["inc"]
    assert object_path(line, "/nonexistent") == "out/a.obj"
    assert "/Foout/" not in line.key_args and "/Fdx.pdb" not in line.key_args and "/DA=1" in line.key_args
    assert object_path(parse(["/c", "/Tpx.cxx", "/Fofoo"], "/"), "/") == "foo.obj"
    dash = parse(["-c", "a.c", "-O2", "-MD", "-EHsc", "-GR-", "-W4", "-fms-compatibility-version=19"], "/nonexistent")
    assert dash.sources == [("a.c", "c")] and not dash.debug
