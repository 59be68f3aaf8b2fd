"""What a cl.exe-style command line says (clang-cl's): every option once, with what
it does to a compile's inputs and outputs.

Options start with ``/`` or ``-`` and are case-sensitive; most take their value
joined (``/Fofoo.obj``), some also as the next word (``/I dir``). On Linux a path
starts with ``/`` too: a word that is no option is an input, as clang-cl reads it,
and everything after ``--`` is an input (CMake puts its sources there). An option
this table does not know passes the compile through, with its name as the reason.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field

# The value is joined or the next word: /Dname, /D name
JOINED_OR_SEPARATE = ("external:I", "imsvc", "winsysroot", "vctoolsdir", "winsdkdir", "winsdkversion", "FI", "Tc",
                      "Tp", "D", "U", "I")
# The value is joined only (possibly empty: /Yu alone)
JOINED = ("Fo", "Fp", "Fd", "Yu")
# Words that change where headers are looked for (part of the search list's memo)
SEARCH = ("external:I", "imsvc", "winsysroot", "vctoolsdir", "winsdkdir", "winsdkversion", "I")
# Switches and joined-value options that change the object but read and write
# nothing the cache does not see: in the key as written. Matched as a prefix of the
# option's name, longest first among these and the refusals below.
SAFE_PREFIXES = ("arch:", "std:", "fp:", "Zc:", "Zp", "Zl", "Z7", "Zi", "Zo", "Zm", "Zf", "Zh:", "O", "W", "w",
                 "G", "EH", "MD", "MT", "J", "utf-8", "bigobj", "permissive", "volatile:", "guard:", "openmp",
                 "external:W", "external:anglebrackets", "external:templates", "diagnostics:", "errorReport:", "FS",
                 "FC", "nologo", "sdl", "Brepro", "TC", "TP", "X", "c", "source-charset:", "execution-charset:",
                 "validate-charset", "constexpr:", "vd", "vm", "d1", "d2", "RTC", "hotpatch", "kernel", "Qspectre",
                 "QIntel-jcc-erratum", "Qvec", "Qpar", "Qimprecise_fwaits", "await", "cgthreads", "favor:",
                 "homeparams", "LD", "Y-", "Yd", "Yl", "u", "showIncludes", "MP", "Qfast_transcendentals",
                 "ZH:", "jumptablerdata", "clr:nostdlib", "Qsafe_fp_loads", "Gm-", "analyze-")
# Options that read or write files the cache cannot see, or make no object: the
# compile passes through with the option as its reason
REFUSED = ("showIncludes:user", "sourceDependencies", "Yc", "Fa", "FA", "Fe", "Fi", "Fm", "Fr", "FR", "FU", "Fx", "AI",
           "P", "EP", "E", "Zs", "ZI", "Zg", "Gm", "doc", "analyze", "headerUnit", "headerName", "ifcOutput",
           "ifcSearchDir", "interface", "internalPartition", "reference", "exportHeader", "translateInclude",
           "experimental:", "link", "LN", "clr", "Qpar-report", "Qvec-report", "Bt", "Bv", "Bz", "B", "H", "?",
           "help", "V", "scanDependencies")
# Dash-only clang options that write or read files beside the object
CLANG_REFUSED = ("-fprofile-instr-use", "-fprofile-use", "-fprofile-sample-use", "-fsanitize-blacklist",
                 "-fsanitize-ignorelist", "-ftime-trace", "-fsave-optimization-record", "-fmodules", "-fmodule-",
                 "-fcrash-diagnostics", "-fembed-offload", "-fplugin", "-fpass-plugin", "-fdebug-compilation-dir",
                 "-fprofile-list", "-fxray-", "-save-temps", "-fdump-", "-fcs-profile", "-fopenmp-")
# Dash-only clang options in the key as written
CLANG_SAFE = ("-f", "-m", "-W", "-g", "-O", "-Q", "-ffp-", "-fno-", "-mno-", "/clang:-f", "/clang:-m",
              "/clang:-W", "/clang:-O", "/clang:-g", "/clang:-std=")
# What -Xclang may pass to clang's front end (the pch timestamps, colours)
XCLANG_SAFE = ("-fno-pch-timestamp", "-fcolor-diagnostics", "-fno-color-diagnostics", "-mno-incremental-linker-compatible",
               "-mincremental-linker-compatible", "-fno-validate-pch")
LANG_OF_EXT = {".c": "c", ".cc": "c++", ".cpp": "c++", ".cxx": "c++", ".c++": "c++", ".cp": "c++", ".C": "c++"}


@dataclass
class ClLine:
    """What the command line says."""

    args: list[str]  # response files expanded
    sources: list[tuple[str, str]] = field(default_factory=list)  # (path, language "c"/"c++")
    output: str | None = None  # /Fo, as given
    compile_only: bool = False  # /c
    debug: bool = False  # /Z7, /Zi, -g: the object names its own path and the directory
    show_includes: bool = False  # the user asked for /showIncludes: its lines stay in stdout
    pch: str | None = None  # /Fp: the precompiled header /Yu reads
    pch_use: str | None = None  # /Yu's header ('' for none named)
    include_dirs: list[str] = field(default_factory=list)  # /I, in order
    search_args: list[str] = field(default_factory=list)  # every word that moves the search list
    no_env_include: bool = False  # /X: INCLUDE and EXTERNAL_INCLUDE are not read
    key_args: list[str] = field(default_factory=list)  # args without the output names
    lang_all: str | None = None  # /TC, /TP


def _name_of(word: str) -> str | None:
    """The option's name without its leading / or -; None for a word that is no option."""
    if word.startswith(("/", "-")) and len(word) > 1:
        return word[1:]
    return None


def _match(name: str, table: tuple[str, ...]) -> str | None:
    best = None
    for prefix in table:
        if name.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


def parse(args: list[str], cwd: str) -> ClLine | str:
    """The parsed line, or the reason to pass the compile through."""
    line = ClLine(args=list(args))
    keep: list[str] = []
    inputs: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            inputs.extend(args[i + 1:])
            keep.extend(args[i:])
            break
        if a.startswith("--"):
            if a.startswith("--target="):
                line.search_args.append(a)
                keep.append(a)
                i += 1
                continue
            return f"unsupported option {a.split('=')[0]}"
        if a == "-target" or a == "-Xclang":
            if i + 1 >= len(args):
                return f"missing value for {a}"
            value = args[i + 1]
            if a == "-Xclang" and not value.startswith(XCLANG_SAFE):
                return "unsupported option -Xclang " + value.split("=")[0]
            if a == "-target":
                line.search_args.extend([a, value])
            keep.extend([a, value])
            i += 2
            continue
        name = _name_of(a)
        if name is None or (a.startswith("/") and os.path.splitext(a)[1] in LANG_OF_EXT
                            and os.path.isfile(os.path.join(cwd, a))):
            inputs.append(a)
            keep.append(a)
            i += 1
            continue
        if a.startswith("/clang:") or (a.startswith("-") and a[1:2] in "fmWgOQ" and _match(name, JOINED_OR_SEPARATE
                                                                                           + JOINED) is None):
            if a.startswith(CLANG_REFUSED) or a.startswith(tuple("/clang:" + p for p in CLANG_REFUSED)):
                return f"unsupported option {a.split('=')[0]}"
            if a.startswith("/clang:") and not a.startswith(CLANG_SAFE):
                return f"unsupported option {a.split('=')[0]}"
            if a.startswith(("-g", "/clang:-g")) and not a.startswith(("-g0", "/clang:-g0")):
                line.debug = True
            if a.startswith(("-m32", "-m64")):
                line.search_args.append(a)
            keep.append(a)
            i += 1
            continue
        value_opt = _match(name, JOINED_OR_SEPARATE + JOINED)
        refused = _match(name, REFUSED)
        safe = _match(name, SAFE_PREFIXES)
        longest = max((p for p in (value_opt, refused, safe) if p is not None), key=len, default=None)
        if longest is None:
            # clang-cl reads a word that names no option as an input file
            if a.startswith("/") and os.path.exists(os.path.join(cwd, a)):
                inputs.append(a)
                keep.append(a)
                i += 1
                continue
            return f"unsupported option {a.split(':')[0]}"
        if longest == refused and refused != safe:
            return f"unsupported option {a[0]}{refused.rstrip(':')}"
        if longest == value_opt:
            if value_opt in JOINED_OR_SEPARATE and name == value_opt:
                if i + 1 >= len(args):
                    return f"missing value for {a}"
                value, words = args[i + 1], [a, args[i + 1]]
            else:
                value, words = name[len(value_opt):], [a]
            why = _value_option(line, a[0] + value_opt, value_opt, value)
            if why:
                return why
            if value_opt not in ("Fo", "Fd"):  # output names are not in the object's bytes
                keep.extend(words)
            if value_opt in SEARCH:
                line.search_args.extend(words)
            i += len(words)
            continue
        # a switch in the key as written
        if name in ("c",):
            line.compile_only = True
        elif name in ("Z7", "Zi"):
            line.debug = True
        elif name == "showIncludes":
            line.show_includes = True
        elif name == "X":
            line.no_env_include = True
            line.search_args.append(a)
        elif name in ("TC", "TP"):
            line.lang_all = "c" if name == "TC" else "c++"
            line.search_args.append(a)
        elif name == "u":
            line.search_args.append(a)
        keep.append(a)
        i += 1
    for path in inputs:
        lang = line.lang_all or LANG_OF_EXT.get(os.path.splitext(path)[1])
        if lang is None:
            return "non-source input"
        line.sources.append((path, lang))
    line.key_args = keep
    if not line.compile_only:
        return "not compiling (linking or other)"
    if not line.sources:
        return "no source file"
    if len(line.sources) > 1:
        return "multiple sources"
    if line.pch_use is not None:
        if not line.pch_use or line.pch is None:
            return "/Yu without a header and /Fp"
    return line


def _value_option(line: ClLine, option: str, name: str, value: str) -> str:
    if name == "Fo":
        if not value or value.startswith(":"):
            return f"unsupported option {option}:"
        line.output = value
    elif name == "Fp":
        line.pch = value
    elif name == "Yu":
        line.pch_use = value
    elif name == "I":
        line.include_dirs.append(value)
    elif name in ("Tc", "Tp"):
        line.sources.append((value, "c" if name == "Tc" else "c++"))
    return ""


def object_path(line: ClLine, cwd: str) -> str:
    """Where clang-cl writes the object: /Fo's file (.obj added when it has no
    extension), /Fo's directory, or the source's stem in the working directory."""
    stem = os.path.splitext(os.path.basename(line.sources[0][0]))[0] + ".obj"
    out = line.output
    if out is None:
        return stem
    if out.endswith(("/", "\\")) or os.path.isdir(os.path.join(cwd, out)):
        return os.path.join(out, stem)
    if not os.path.splitext(out)[1]:
        return out + ".obj"
    return out


def without_outputs(args: list[str]) -> list[str]:
    """Arguments for a preprocessing run: no object name, no /c, no /showIncludes."""
    out = []
    for a in args:
        name = _name_of(a)
        if name is not None and (name in ("c", "showIncludes") or name.startswith(("Fo", "Fd"))):
            continue
        out.append(a)
    return out


# -- response files: clang-cl reads them with Windows' rules ---------------------------------


def expand(args: list[str], cwd: str, depth: int = 0) -> list[str]:
    """Expand @file words (nested ones too); the file's text is split as Windows
    splits a command line, UTF-16 when it starts with a byte-order mark."""
    if depth > 10 or not any(a.startswith("@") for a in args):
        return list(args)
    out: list[str] = []
    for a in args:
        if a.startswith("@") and len(a) > 1:
            with open(os.path.join(cwd, a[1:]), "rb") as f:
                data = f.read()
            if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                text = data.decode("utf-16")
            else:
                text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8", "surrogateescape")
            out.extend(expand(split_windows(text), cwd, depth + 1))
        else:
            out.append(a)
    return out


def split_windows(text: str) -> list[str]:
    """Words as Windows' CommandLineToArgvW splits them: backslashes are literal
    except before a quote (2n of them: n, and the quote opens or closes; 2n+1: n and
    a literal quote); "" inside quotes is a literal quote."""
    words: list[str] = []
    cur: list[str] = []
    have = quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            j = i
            while j < len(text) and text[j] == "\\":
                j += 1
            count = j - i
            if j < len(text) and text[j] == '"':
                cur.append("\\" * (count // 2))
                if count % 2:
                    cur.append('"')
                    i = j + 1
                else:
                    i = j
                have = True
                continue
            cur.append("\\" * count)
            have = True
            i = j
            continue
        if c == '"':
            if quoted and text[i + 1:i + 2] == '"':
                cur.append('"')
                i += 2
                continue
            quoted = not quoted
            have = True
        elif c.isspace() and not quoted:
            if have:
                words.append("".join(cur))
                cur, have = [], False
        else:
            cur.append(c)
            have = True
        i += 1
    if have:
        words.append("".join(cur))
    return words
