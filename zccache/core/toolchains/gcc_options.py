"""What the code knows about gcc-like command lines, each option once.

gcc, clang and emcc share one option syntax, and three families read it: the
compile family (gcc.py), the link family (linker.py) and the basedir rewrite. Each
option is one row of OPTIONS: how its value is written, and its roles. The sets the
parsers test against are derived from the table, never kept beside it.

Value forms: ``none`` (a flag), ``separate`` (the next argument: ``-include x.h``),
``either`` (attached or the next argument: ``-Idir``, ``-I dir``). A row with
``prefix=True`` matches every option that starts with its name (``-fdump-``).

Roles:
- ``output``: names a file the compile writes (its name is not key material);
- ``path``: its value is a path (rewritten below ZCCACHE_BASEDIR, mapped by prefix maps);
- ``input``: names a file the compile reads by that name;
- ``search``: changes where headers (or the driver's programs) are looked for;
- ``keyfile``: names a file read that no depfile lists: its content joins the key;
- ``passthrough``: writes or reads what the cache cannot name: the compile runs plainly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Opt:
    value: str = "none"  # "none" | "separate" | "either"
    roles: frozenset[str] = frozenset()
    prefix: bool = False


def _o(value: str = "none", *roles: str, prefix: bool = False) -> Opt:
    return Opt(value, frozenset(roles), prefix)


OPTIONS: dict[str, Opt] = {
    # outputs and the dependency file
    "-o": _o("either", "output", "path"),
    "-MF": _o("either", "output", "path"),
    "-MT": _o("either"), "-MQ": _o("either"), "-MD": _o(), "-MMD": _o(), "-MP": _o(),
    # the preprocessor's inputs and search path
    "-I": _o("either", "search", "path"),
    "-isystem": _o("separate", "search", "path"),
    "-iquote": _o("separate", "search", "path"),
    "-idirafter": _o("separate", "search", "path"),
    "-include": _o("separate", "input", "path"),
    "-imacros": _o("separate", "input", "path"),
    "-include-pch": _o("separate", "input"),
    "-iprefix": _o("separate", "search"),
    "-iwithprefix": _o("separate", "search"),
    "-iwithprefixbefore": _o("separate"),
    "-isysroot": _o("separate", "search"),
    "--sysroot": _o("separate", "search"),
    "-imultilib": _o("separate"),
    "-nostdinc": _o("none", "search", prefix=True),
    "-stdlib": _o("none", "search", prefix=True),
    "--gcc-toolchain": _o("none", "search", prefix=True),
    "-m": _o("none", "search", prefix=True),  # -m32, -march=...: the multilib and target headers
    "-target": _o("separate", "search"),
    "--target": _o("none", "search", prefix=True),
    "-B": _o("either", "search"),  # also the driver's programs and specs (gcc_driver.py)
    "-specs": _o("separate", "input"),
    "-D": _o("either"), "-U": _o("either"), "-undef": _o(),
    "-x": _o("either"),
    # passed on to other programs, or link options a compile line may carry
    "-Xclang": _o("separate"), "-Xlinker": _o("separate"), "--param": _o("separate"),
    "-L": _o("either"), "-l": _o("either"), "-T": _o("either"), "-u": _o("either"), "-z": _o("either"),
    "-A": _o("either"), "-Ttext": _o(), "-Tdata": _o(), "-Tbss": _o(),
    "-arch": _o("separate"), "-e": _o("separate"), "-G": _o("separate"), "-V": _o("separate"),
    "-b": _o("separate"), "-dumpbase": _o("separate"), "-dumpdir": _o("separate"),
    "-dumpbase-ext": _o("separate"), "-ftime-trace-file": _o("separate"),
    # passed through: they write or read files the cache cannot name, or ask no compile
    "-Xpreprocessor": _o("separate", "passthrough"), "-Xassembler": _o("separate", "passthrough"),
    "-aux-info": _o("separate", "passthrough"),
    "-MJ": _o("separate", "passthrough", prefix=True),
    "--serialize-diagnostics": _o("separate", "passthrough", prefix=True),
    "-wrapper": _o("separate", "passthrough", prefix=True),
    "--config": _o("separate", "passthrough", prefix=True),
    **{name: _o("none", "passthrough") for name in (
        "-E", "-M", "-MM", "-MG", "-###", "-v", "-fprofile-values", "-fprofile-update", "-pipe-output",
        "--help", "--version", "-dumpversion", "-dumpmachine", "-dumpspecs", "-fsyntax-only")},
    **{name: _o("none", "passthrough", prefix=True) for name in (
        "-save-temps", "-fdump-", "-fplugin", "-ftime-trace", "-fmodules", "-fmodule-", "-fcoverage-mapping",
        "-fopt-info", "-frepo", "-emit-pch", "-fcreate-profile", "-fdebug-types-section-dir",
        "-fcs-profile-generate", "-fthinlto-index", "-ivfsoverlay", "-fsave-optimization-record",
        "-foptimization-record-file", "-fdiagnostics-format=sarif-file", "-fdiagnostics-add-output",
        "-fembed-offload-object", "-ftime-report", "-fmem-report", "-fstats")},
    # files read by name, never in a depfile: by content (or absence) in the key
    **{name: _o("none", "keyfile", prefix=True) for name in (
        "-fsanitize-ignorelist=", "-fsanitize-blacklist=", "-fsanitize-system-ignorelist=", "-fprofile-list=",
        "-fprofile-remapping-file=", "-fsanitize-coverage-allowlist=", "-fsanitize-coverage-ignorelist=",
        "-fsanitize-coverage-whitelist=", "-fsanitize-coverage-blacklist=", "-fxray-attr-list=",
        "-fxray-always-instrument=", "-fxray-never-instrument=")},
}


def _names(test) -> list[str]:
    return [name for name, opt in OPTIONS.items() if test(opt)]


TAKES_VALUE = frozenset(_names(lambda o: o.value in ("separate", "either")))  # "-I dir"
ATTACHED = tuple(_names(lambda o: o.value == "either"))  # "-Idir"
PATH_VALUED = frozenset(_names(lambda o: "path" in o.roles and o.value != "none"))
# path options whose value names an input or a search dir, longest first (startswith)
PATH_OPTIONS = tuple(sorted(_names(lambda o: "path" in o.roles and not {"output"} & o.roles), key=len, reverse=True))
PASSTHROUGH_EXACT = frozenset(_names(lambda o: "passthrough" in o.roles and not o.prefix))
PASSTHROUGH_PREFIXES = tuple(_names(lambda o: "passthrough" in o.roles and o.prefix))
KEY_FILE_OPTIONS = tuple(_names(lambda o: "keyfile" in o.roles))
SEARCH_PREFIXES = tuple(_names(lambda o: "search" in o.roles))
# options that merely start like an attached one ("-Ttext" is not "-T" with "text")
_LONGER = tuple(n for n in OPTIONS if any(n.startswith(p) and n != p for p in ATTACHED))

# Profile feedback: the data files are hashed into the key (gcc_inputs.profile_files).
PROFILE_USE = ("-fprofile-use", "-fprofile-instr-use", "-fprofile-sample-use", "-fauto-profile",
               "-fbranch-probabilities")
# Instrumented objects embed the path their counters are written to.
PROFILE_GENERATE = ("-fprofile-generate", "-fprofile-instr-generate")
MAP_OPTIONS = ("-ffile-prefix-map=", "-fdebug-prefix-map=", "-fmacro-prefix-map=")

# The tools these command lines belong to, by name; any other name is asked (compiler_probe)
COMPILER_NAME = re.compile(r"^(?:.*-)?(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+|emcc|em\+\+)(?:-\d+(?:\.\d+)*)?$")
KINDS = ("gcc", "clang", "emscripten")  # what compiler_probe may call a compiler these families drive
LANG_OF_EXT = {
    ".c": "c", ".cc": "c++", ".cp": "c++", ".cxx": "c++", ".cpp": "c++", ".CPP": "c++",
    ".c++": "c++", ".C": "c++", ".m": "objective-c", ".mm": "objective-c++", ".M": "objective-c++",
    ".S": "assembler-with-cpp", ".sx": "assembler-with-cpp",
    ".s": "assembler", ".i": "cpp-output", ".ii": "c++-cpp-output", ".cu": "cuda",
}
CACHEABLE_LANGS = frozenset({"c", "c++", "objective-c", "objective-c++", "assembler-with-cpp"})


def is_longer_option(arg: str) -> bool:
    """True for an argument that merely starts like an attached option (-Ttext ...)."""
    return arg.startswith(_LONGER)


def rewrite_basedir(args: list[str], basedir: str, cwd: str) -> list[str]:
    """Absolute paths below basedir become relative to the cwd, as ccache's base_dir:
    two checkouts at different places then give the same key (and the same object,
    since the compiler is run with the rewritten arguments too)."""

    def rel(path: str) -> str:
        if os.path.isabs(path) and (path == basedir or path.startswith(basedir.rstrip(os.sep) + os.sep)):
            return os.path.relpath(path, cwd)
        return path

    joined = tuple(sorted(PATH_VALUED, key=len, reverse=True))
    out: list[str] = []
    pending = None
    for a in args:
        if pending is not None:
            out.append(rel(a))
            pending = None
            continue
        if a in PATH_VALUED:
            out.append(a)
            pending = a
            continue
        for opt in joined:
            if a.startswith(opt) and len(a) > len(opt) and os.path.isabs(a[len(opt):]):
                a = opt + rel(a[len(opt):])
                break
        else:
            if not a.startswith("-"):
                a = rel(a)
        out.append(a)
    return out
