"""``zccache exec``: cache any tool's run by the inputs its caller declares.

    zccache exec --input src/a.c --input .clang-tidy --include-scan -I include \\
                 --output-stdout -- clang-tidy src/a.c -- -Iinclude

A linter, a code generator, a converter: a tool zccache cannot read the command line
of is cached as its caller describes it. The key is the tool's bytes, its arguments,
the declared inputs (files or globs, by content or absence), the declared environment
variables and, with ``--cwd-in-key``, the working directory. What the tool reads
beyond the declared inputs is found one of two ways, and checked on every hit as a
compile's headers are:

- ``--depfile PATH``: the tool writes a make depfile (``gcc -MD``, many generators);
- ``--include-scan`` with ``-I``/``-isystem``/``-iquote`` dirs: the declared inputs
  are scanned for ``#include`` and the headers found are followed, with the same
  shadow probes as a compile. A computed ``#include MACRO`` makes the run uncacheable.

The run goes through the engine (the store, manifests, statistics) in this process.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from zccache.core.hookspecs import hookimpl
from zccache.core.invocation import Invocation, Memo, RunResult, SearchPath
from zccache.core.process import run_tool

NAME = "exec"
_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include(?:_next)?[ \t]*(?:"([^"\n]+)"|<([^>\n]+)>|(\S.*))', re.M)


@dataclass
class ExecSpec:
    """What the caller declared."""

    depfile: str | None = None
    include_scan: bool = False
    quote_dirs: list[str] = field(default_factory=list)
    bracket_dirs: list[str] = field(default_factory=list)
    system_dirs: list[str] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)  # the declared inputs the scan starts from


class ExecFamily:
    """Any tool, through `zccache exec` and the daemon's GenericToolExec: its inputs,
    outputs and streams are what the caller declares (or a depfile or an include
    scan finds)."""

    name = NAME
    action = "exec"

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        return b""  # the tool's bytes are hashed; an unknown tool is never run to ask its version

    def execute(self, inv: Invocation) -> RunResult:
        spec: ExecSpec = inv.details
        rc, out, err = run_tool(inv.command, inv.cwd, inv.env, inv.umask)
        if rc != 0:
            return RunResult(rc, out, err)
        if spec.depfile is not None:
            from zccache.core.toolchains.cmdline import parse_depfile

            try:
                with open(os.path.join(inv.cwd, spec.depfile), "rb") as f:
                    return RunResult(rc, out, err, parse_depfile(f.read().decode("utf-8", "surrogateescape")))
            except OSError:
                return RunResult(rc, out, err, None, "declared depfile not written")
        if spec.include_scan:
            found = scan_includes(inv.cwd, spec)
            if isinstance(found, str):
                return RunResult(rc, out, err, None, found)
            return RunResult(rc, out, err, found)
        return RunResult(rc, out, err, [])

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        spec: ExecSpec = inv.details
        return SearchPath(order=[*spec.quote_dirs, *spec.bracket_dirs, *spec.system_dirs], system=list(spec.system_dirs))

    def preprocess(self, inv: Invocation) -> RunResult:
        return RunResult(1, b"", b"no preprocessor for a declared tool run")


FAMILY = ExecFamily()


def scan_includes(cwd: str, spec: ExecSpec) -> list[str] | str:
    """Every header the declared inputs include, followed through the headers found,
    in all branches of any #if (more inputs than read is safe, fewer is not). A
    header found in none of the declared dirs is not followed: the caller declared
    where the tool looks. A reason string for a computed #include."""
    seen: set[str] = set()
    found: list[str] = []
    pending = [os.path.normpath(os.path.join(cwd, p)) for p in spec.scanned]
    while pending:
        path = pending.pop()
        try:
            with open(path, "rb") as f:
                text = f.read()
        except OSError:
            continue
        for quoted, bracketed, other in _INCLUDE.findall(text):
            if other:
                return "computed #include"
            name = (quoted or bracketed).decode("utf-8", "surrogateescape")
            dirs = ([os.path.dirname(path), *spec.quote_dirs] if quoted else []) + [*spec.bracket_dirs,
                                                                                   *spec.system_dirs]
            for d in dirs:
                candidate = os.path.normpath(os.path.join(cwd, d, name))
                if os.path.isfile(candidate):
                    if candidate not in seen:
                        seen.add(candidate)
                        found.append(candidate)
                        pending.append(candidate)
                    break
    return found


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "exec", help="run any tool through the cache, keyed on the inputs you declare",
        description="Run TOOL ARGS through the cache. The result (declared output files, and stdout and stderr) "
        "is keyed on the tool's bytes, its arguments and the declared inputs.",
        usage="zccache exec [options] -- TOOL [ARGS...]")
    p.add_argument("--input", action="append", default=[], metavar="PATH|GLOB",
                   help="a file (or glob, ** included) whose content decides the result")
    p.add_argument("--input-env", action="append", default=[], metavar="NAME", help="an environment variable that does")
    p.add_argument("--output", action="append", default=[], metavar="PATH", help="a file the tool writes")
    p.add_argument("--output-stdout", action="store_true", help="replay stdout on a hit (the default, with neither)")
    p.add_argument("--output-stderr", action="store_true", help="replay stderr on a hit (the default, with neither)")
    p.add_argument("--depfile", metavar="PATH", help="a make depfile the tool writes, naming what else it read")
    p.add_argument("--include-scan", action="store_true", help="follow #include in the inputs on the dirs below")
    p.add_argument("-I", dest="bracket_dirs", action="append", default=[], metavar="DIR")
    p.add_argument("-isystem", dest="system_dirs", action="append", default=[], metavar="DIR")
    p.add_argument("-iquote", dest="quote_dirs", action="append", default=[], metavar="DIR")
    p.add_argument("--cwd-in-key", action="store_true", help="the result depends on the working directory")
    p.add_argument("--no-cache", action="store_true", help="run the tool, never look up or store")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- TOOL ARGS...")
    p.set_defaults(func=_cmd_exec)


def _cmd_exec(ns: argparse.Namespace) -> int:
    command = ns.command[1:] if ns.command[:1] == ["--"] else ns.command
    if not command:
        sys.stderr.write("zccache exec: name the tool after --\n")
        return 2
    if (ns.depfile is not None) and ns.include_scan:
        sys.stderr.write("zccache exec: --depfile and --include-scan are two ways to the same list; give one\n")
        return 2
    if (ns.bracket_dirs or ns.system_dirs or ns.quote_dirs) and not ns.include_scan:
        sys.stderr.write("zccache exec: -I, -isystem and -iquote are for --include-scan\n")
        return 2
    from zccache.core.control import resolve_tool
    from zccache.core.launcher import is_self

    cwd = os.getcwd()
    env = dict(os.environ)
    tool = resolve_tool(command[0], cwd, env.get("PATH"))
    if tool is None:
        sys.stderr.write(f"zccache exec: '{command[0]}' not found\n")
        return 127
    if is_self(tool):
        sys.stderr.write("zccache exec: the tool is zccache itself\n")
        return 2
    inputs: list[str] = []
    for pattern in ns.input:
        if glob.has_magic(pattern):
            matched = glob.glob(pattern, root_dir=cwd, recursive=True)
            inputs.extend(sorted(p for p in matched if os.path.isfile(os.path.join(cwd, p))))
        elif os.path.isdir(os.path.join(cwd, pattern)):
            sys.stderr.write(f"zccache exec: --input {pattern} is a directory; give a glob ({pattern}/**)\n")
            return 2
        else:
            inputs.append(pattern)
    inputs = list(dict.fromkeys(inputs))
    outputs = list(dict.fromkeys(ns.output))
    streams = {s for s, on in (("stdout", ns.output_stdout), ("stderr", ns.output_stderr)) if on} or {"stdout", "stderr"}
    inv = exec_invocation(tool, command[1:], cwd, env, inputs=inputs, patterns=ns.input, outputs=outputs,
                          streams=streams, input_env=ns.input_env, depfile=ns.depfile,
                          include_scan=ns.include_scan, quote_dirs=ns.quote_dirs, bracket_dirs=ns.bracket_dirs,
                          system_dirs=ns.system_dirs, cwd_in_key=ns.cwd_in_key)
    return _run(inv, ns.no_cache)


def exec_invocation(tool: str, args: list[str], cwd: str, env: Mapping[str, str], *, inputs: list[str],
                    patterns: list[str], outputs: list[str], streams: set[str], input_env: list[str],
                    depfile: str | None = None, include_scan: bool = False, quote_dirs: list[str] = (),
                    bracket_dirs: list[str] = (), system_dirs: list[str] = (), cwd_in_key: bool = False,
                    key_args: list[str] | None = None, extra: bytes = b"") -> Invocation:
    """The Invocation of a declared tool run, for `zccache exec` and the daemon's
    GenericToolExec alike. key_args: the arguments as they enter the key (the
    arguments themselves unless a caller filters some out); extra: bytes the caller
    says the result depends on."""
    quote_dirs, bracket_dirs, system_dirs = list(quote_dirs), list(bracket_dirs), list(system_dirs)
    spec = ExecSpec(depfile=depfile, include_scan=include_scan, quote_dirs=quote_dirs, bracket_dirs=bracket_dirs,
                    system_dirs=system_dirs, scanned=[p for p in inputs if os.path.isfile(os.path.join(cwd, p))])
    outputs = list(outputs)
    if depfile is not None:
        outputs = [o for o in outputs if o != depfile]
        outputs.append(depfile)  # restored with the rest: a build system reads it after the run
    return Invocation(
        family=FAMILY,
        tool=tool,
        args=list(args),
        cwd=cwd,
        env=env,
        # the patterns as given and what they matched: a file matching later is another key
        key_args=[*(args if key_args is None else key_args), "\0inputs", *patterns, "\0outputs", *outputs,
                  "\0streams", *sorted(streams), "\0scan", repr((include_scan, quote_dirs, bracket_dirs, system_dirs)),
                  *(["\0extra", extra.hex()] if extra else [])],
        sources=spec.scanned,  # by content; their directories are where a quoted #include looks first
        outputs={f"out{i}": path for i, path in enumerate(outputs)},
        key_env={name: env.get(name, "\0unset") for name in input_env},
        hash_cwd=cwd_in_key or depfile is not None,  # a depfile may name the directory
        can_preprocess=False,
        time_macros_ok=True,
        text_inputs=False,
        key_files=[p for p in inputs if p not in spec.scanned],  # absent ones: absence is a state too
        in_place=frozenset(set(inputs) & set(outputs)),
        streams=frozenset(streams),
        details=spec,
    )


def _run(inv: Invocation, no_cache: bool) -> int:
    from zccache.core.control import open_store as _open_store
    from zccache.core.config import Config, ConfigError
    from zccache.core.engine import Engine
    from zccache.core.inprocess import emit
    from zccache.core.invocation import Outcome
    from zccache.core.launcher import observe
    from zccache.core.plugins import make_manager
    from zccache.core.stats import StatsRecorder

    try:
        config = Config.from_env(inv.env)
    except ConfigError as exc:
        sys.stderr.write(f"zccache exec: {exc}; running without cache\n")
        no_cache = True
        config = None
    if no_cache or config is None:
        rc, out, err = run_tool(inv.command, inv.cwd, inv.env)
        emit(out, err)
        return rc
    pm = make_manager(memo_dir=config.cache_dir)
    store = _open_store(config)
    if store is not None:
        pm.register(StatsRecorder(store))
    done = Engine(config, store, pm.hook).run(inv)
    observe(pm, inv, done.outcome)
    emit(done.stdout, done.stderr)
    return done.returncode
