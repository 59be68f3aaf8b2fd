"""Asking a compiler what it is, instead of trusting its file name.

Builds name their compilers anything: mpicc, conda's x86_64-conda-linux-gnu-cc, Nix
and distribution wrappers, a two-line shell script that ``exec``s gcc. A tool is a
gcc-like compiler when it preprocesses an empty C input and predefines
``__GNUC__`` (clang does too, and adds ``__clang__``). The answer is memoised under
the tool's path and settled stat signature, so a wrapper that is edited is asked
again.

The probe also names the programs the driver runs for a compile (``cc1``, ``as``,
clang's own ``-cc1``): a wrapper script's bytes do not change when the compiler
behind it is upgraded, so the engine checks those programs' stat signatures too.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from zccache.core.toolchains.tool_memo import ToolMemo
from zccache.core.process import run_tool, scratch_dir

PROBE_SECONDS = 30.0  # a tool that does not answer an empty preprocess in this time is not served


@dataclass(frozen=True)
class Probe:
    kind: str  # "gcc", "clang", "emscripten", or "" for a tool that is not a gcc-like compiler
    macros: bytes  # what it predefines for an empty C input: part of its identity
    programs: tuple[str, ...]  # absolute paths of the programs a compile runs
    # __DATE__/__TIME__ follow SOURCE_DATE_EPOCH (gcc 7+, clang 16+): only then does
    # setting it make a source that uses them reproducible, and so cacheable
    source_date_epoch: bool = False
    # Emscripten's configuration file (LLVM root, cache dir ...): by content in every key
    config_files: tuple[str, ...] = ()
    # The assembler writes what it read (GNU as --MD): .incbin and .include files
    # can then be keyed like headers
    as_depfile: bool = False
    # gcc's target machine and version: the subdirectories it searches each program
    # prefix for (-B dir/x86_64-linux-gnu/12/cc1)
    machine: str = ""
    version: str = ""


_probes: ToolMemo[Probe] = ToolMemo("compiler", Probe)
_native: ToolMemo[str] = ToolMemo("native-flags")
_search: ToolMemo[tuple[tuple[str, ...], tuple[str, ...]]] = ToolMemo("driver-search")
# What decides where gcc's driver looks for its programs and its specs files
DRIVER_ENV = ("GCC_EXEC_PREFIX", "COMPILER_PATH", "LIBRARY_PATH")


def probe(tool: str, env: Mapping[str, str]) -> Probe:
    """What tool is; asked once per (path, settled stat signature) in this process."""
    return _probes.get(tool, lambda: _ask(tool, env), Probe("", b"", ()), env=env)


def known_kind(tool: str, env: Mapping[str, str]) -> str | None:
    """The kind memoised for tool, without running it (None: never asked, or changed)."""
    known = _probes.peek(tool, env=env)
    return known.kind if known is not None else None


def native_flags(tool: str, flags: list[str], env: Mapping[str, str]) -> str:
    """What -march=native (and -mcpu, -mtune) mean on this machine: the commands the
    driver would run, which name the processor and its features. An object built
    for this machine's processor is then never served to another's."""

    def ask() -> str:
        cwd = os.getcwd() if os.path.isdir(os.getcwd()) else "/"
        rc, _, err = run_tool([tool, *flags, "-###", "-E", "-x", "c", os.devnull], cwd, env, timeout=PROBE_SECONDS)
        lines = [line for line in err.decode("utf-8", "surrogateescape").splitlines() if line.startswith(" ")]
        return f"{rc}\n" + "\n".join(lines)

    return _native.get(tool, ask, "", extra=tuple(flags), env=env)


def driver_search(tool: str, args: list[str], env: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(program prefixes, library prefixes) gcc's driver searches, in order, for
    these arguments (-B, -m, --sysroot) and variables: where it finds cc1 and as,
    and where it looks for specs files. Each prefix is a string the driver puts
    before a name, as ``-print-search-dirs`` prints it."""
    context = (tuple(args), *(env.get(name, "") for name in DRIVER_ENV))

    def ask() -> tuple[tuple[str, ...], tuple[str, ...]]:
        cwd = os.getcwd() if os.path.isdir(os.getcwd()) else "/"
        rc, out, _ = run_tool([tool, *args, "-print-search-dirs"], cwd, env, timeout=PROBE_SECONDS)
        found: dict[str, tuple[str, ...]] = {}
        for line in out.decode("utf-8", "surrogateescape").splitlines():
            name, _, value = line.partition(": =")
            if name in ("programs", "libraries"):
                found[name] = tuple(dict.fromkeys(v for v in value.split(":") if v))
        if rc != 0:
            return (), ()
        return found.get("programs", ()), found.get("libraries", ())

    return _search.get(tool, ask, ((), ()), extra=context, env=env)


def _ask(tool: str, env: Mapping[str, str]) -> Probe:
    cwd = os.getcwd() if os.path.isdir(os.getcwd()) else "/"
    rc, out, _ = run_tool([tool, "-E", "-dM", "-x", "c", os.devnull], cwd, env, timeout=PROBE_SECONDS)
    if rc != 0 or b"#define __GNUC__ " not in out:
        return Probe("", b"", ())
    if b"#define __EMSCRIPTEN__ " in out:
        kind = "emscripten"
    elif b"#define __clang__ " in out:
        kind = "clang"
    else:
        kind = "gcc"
    programs: list[str] = []
    for lang in ("c", "c++"):
        rc, _, err = run_tool([tool, "-###", "-x", lang, "-c", os.devnull, "-o", os.devnull], cwd, env,
                              timeout=PROBE_SECONDS)
        if rc == 0:
            listing = err.decode("utf-8", "surrogateescape")
            programs.extend(_programs(listing, env.get("PATH", os.defpath)))
            programs.extend(_config_files(listing))
    macros = b"\n".join(sorted(out.splitlines()))
    config = _emscripten_config(tool, cwd, env) if kind == "emscripten" else ()
    machine = version = ""
    as_depfile = False
    if kind == "gcc":
        machine = _answer(tool, "-dumpmachine", cwd, env)
        version = _answer(tool, "-dumpversion", cwd, env)
        as_depfile = _assembler_lists_inputs(programs, cwd, env)
    return Probe(kind, macros, tuple(dict.fromkeys(programs)), _honours_source_date_epoch(tool, cwd, env), config,
                 as_depfile, machine, version)


def _answer(tool: str, option: str, cwd: str, env: Mapping[str, str]) -> str:
    rc, out, _ = run_tool([tool, option], cwd, env, timeout=PROBE_SECONDS)
    return out.decode("utf-8", "surrogateescape").strip() if rc == 0 else ""


def _assembler_lists_inputs(programs: list[str], cwd: str, env: Mapping[str, str]) -> bool:
    """Whether the assembler behind this gcc writes a dependency file (GNU as --MD):
    asked of the assembler itself, as `-###` named it, so that no probe is a
    compile a build recorder (Bear) would list."""
    assemblers = [p for p in programs if os.path.basename(p) == "as" or os.path.basename(p).endswith("-as")]
    if not assemblers:
        return False
    tmp = scratch_dir(env, "zccache-probe-")
    try:
        deps = os.path.join(tmp, "x.d")
        rc, _, _ = run_tool([assemblers[0], "--MD", deps, "-o", os.path.join(tmp, "x.o")], cwd, env,
                            timeout=PROBE_SECONDS, given=b"\n")
        return rc == 0 and os.path.isfile(deps)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _config_files(listing: str) -> list[str]:
    """clang names the configuration files it read (``--config``, or a default one
    beside it, or for its target name): their content is the compiler's too."""
    return [line.split(":", 1)[1].strip() for line in listing.splitlines()
            if line.startswith("Configuration file:")]


def _emscripten_config(tool: str, cwd: str, env: Mapping[str, str]) -> tuple[str, ...]:
    """Where this emcc reads its configuration: em-config beside it says; the
    user's ~/.emscripten too, which takes over when it appears."""
    found = [os.path.expanduser("~/.emscripten")]
    em_config = os.path.join(os.path.dirname(tool), "em-config")
    if os.access(em_config, os.X_OK):
        rc, out, _ = run_tool([em_config, "EM_CONFIG"], cwd, env, timeout=PROBE_SECONDS)
        text = out.decode("utf-8", "surrogateescape").strip()
        if rc == 0 and os.path.isabs(text):
            found.append(text)
    return tuple(dict.fromkeys(found))


def _honours_source_date_epoch(tool: str, cwd: str, env: Mapping[str, str]) -> bool:
    rc, out, _ = run_tool([tool, "-E", "-P", "-x", "c", "-"], cwd, {**env, "SOURCE_DATE_EPOCH": "86400"},
                          timeout=PROBE_SECONDS, given=b"__DATE__ __TIME__\n")  # stdin: no source file to record
    return rc == 0 and b'"Jan  2 1970" "00:00:00"' in out


def _programs(listing: str, path: str) -> list[str]:
    """The first word of each command ``-###`` prints (a line that starts with a
    space), made absolute: gcc names ``as`` bare and leaves it to PATH."""
    found = []
    for line in listing.splitlines():
        if not line.startswith(" "):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        if not words:
            continue
        program = words[0] if os.path.isabs(words[0]) else shutil.which(words[0], path=path)
        if program:
            found.append(os.path.realpath(program))
    return found
