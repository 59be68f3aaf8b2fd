"""Static archives: ``ar`` (create, ``r``, ``q``, ``s``) and ``ranlib``.

An archive is its members' bytes and names, and nothing else when ar runs in
deterministic mode (``D``, Debian's default: zero timestamps and owners). So the key
is ar's identity, its arguments, every member's content and the archive that is
there before the run (an ``r`` or ``q`` adds to it; absent is a state too). ranlib
rewrites its archive in place: the archive before is the input, the one after the
output. A run that depends on time (``u`` compares mtimes, ``U`` stores them) or
does anything but write the archive is passed through.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from zccache.core.config import env_flag
from zccache.core.hookspecs import hookimpl
from zccache.core.invocation import Invocation, Memo, Passthrough, RunResult, SearchPath
from zccache.core.process import run_tool
from zccache.core.toolchains.compiler_probe import PROBE_SECONDS
from zccache.core.toolchains.tool_memo import ToolMemo

NAME = "archive"
_AR = re.compile(r"^(?:.*-)?(?:gcc-|llvm-)?ar(?:-\d+(?:\.\d+)*)?$")
_RANLIB = re.compile(r"^(?:.*-)?(?:gcc-|llvm-)?ranlib(?:-\d+(?:\.\d+)*)?$")
_OPERATIONS = "rqs"  # the ones that write the archive and nothing else
_MODIFIERS = set("cDsSTv")  # create quietly, deterministic, index, no index, thin, verbose
_MEMBER_FREE = "s"  # the operation that names no members


class ArchiveFamily:
    """ar (r, q, s) and ranlib in deterministic mode: members by content, and the
    archive that was there before, which the run rewrites in place."""

    name = NAME
    action = "link"

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        rc, out, _ = run_tool([tool, "--version"], os.getcwd(), env, timeout=PROBE_SECONDS)
        return b"%d\0%s" % (rc, out)

    def execute(self, inv: Invocation) -> RunResult:
        rc, out, err = run_tool(inv.command, inv.cwd, inv.env, inv.umask)
        return RunResult(rc, out, err, [])  # every input is in the key already

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        return SearchPath(order=[], system=[])

    def preprocess(self, inv: Invocation) -> RunResult:
        return RunResult(1, b"", b"an archive has no preprocessor")


FAMILY = ArchiveFamily()
_deterministic: ToolMemo[bool] = ToolMemo("archiver")


def deterministic_by_default(tool: str, env: Mapping[str, str]) -> bool:
    """Whether this ar (or ranlib) zeroes timestamps unless told otherwise: its
    --help marks the D modifier (or -D option) as the default."""

    def ask() -> bool:
        rc, out, err = run_tool([tool, "--help"], "/", env, timeout=PROBE_SECONDS)
        return any(line.lstrip().startswith((b"[D]", b"-D")) and b"(default)" in line
                   for line in (out + err).splitlines())

    return _deterministic.get(tool, ask, False, env=env)


@hookimpl(tryfirst=True)
def zccache_classify(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough | None:
    name = os.path.basename(argv[0])
    if _AR.match(name):
        found = classify_ar(argv, cwd, env)
    elif _RANLIB.match(name):
        found = classify_ranlib(argv, cwd, env)
    else:
        return None
    if isinstance(found, Invocation) and not env_flag(env, "ZCCACHE_LINKS", True):
        return Passthrough("link caching off (ZCCACHE_LINKS=0)", argv[0], "link")
    return found


def classify_ar(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough:
    tool, args = argv[0], argv[1:]
    rest = list(args)
    while rest and rest[0].startswith("--plugin"):  # gcc-ar's and CMake's LTO plugin
        rest = rest[2:] if rest[0] == "--plugin" else rest[1:]
    if len(rest) < 2 or rest[0].startswith("--"):
        return Passthrough("not creating an archive", tool, "link")
    letters = rest[0].lstrip("-")
    operations = [c for c in letters if c in "dmpqrtx"] or (["s"] if "s" in letters else [])
    if len(operations) != 1 or operations[0] not in _OPERATIONS:
        return Passthrough("ar operation other than r, q or s", tool, "link")
    if any(c not in _MODIFIERS for c in letters.replace(operations[0], "", 1)):
        return Passthrough("ar modifier that depends on time or position", tool, "link")
    if "D" not in letters and not deterministic_by_default(tool, env):
        return Passthrough("ar not in deterministic mode", tool, "link")
    archive, members = rest[1], rest[2:]
    if operations[0] in _MEMBER_FREE and members:
        return Passthrough("ar s with members", tool, "link")
    if any(m.startswith("@") or m == "-" for m in [archive, *members]):
        return Passthrough("ar response file", tool, "link")
    return _invocation(tool, args, cwd, env, archive, members, thin="T" in letters)


def classify_ranlib(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough:
    tool, args = argv[0], argv[1:]
    options = [a for a in args if a.startswith("-")]
    archives = [a for a in args if not a.startswith("-")]
    if len(archives) != 1 or any(o not in ("-D",) for o in options):
        return Passthrough("ranlib with options or several archives", tool, "link")
    if "-D" not in options and not deterministic_by_default(tool, env):
        return Passthrough("ranlib not in deterministic mode", tool, "link")
    archive = archives[0]
    if not os.path.isfile(os.path.join(cwd, archive)):
        return Passthrough("ranlib of a missing archive", tool, "link")
    return _invocation(tool, args, cwd, env, archive, [])


def _invocation(tool: str, args: list[str], cwd: str, env: Mapping[str, str], archive: str,
                members: list[str], thin: bool = False) -> Invocation | Passthrough:
    full = os.path.join(cwd, archive)
    if os.path.lexists(full) and not os.path.isfile(full) or os.path.islink(full):
        return Passthrough("archive is not a regular file", tool, "link")
    for member in members:
        if not os.path.isfile(os.path.join(cwd, member)):
            return Passthrough("archive member is not a file", tool, "link")
    if os.path.normpath(full) in {os.path.normpath(os.path.join(cwd, m)) for m in members}:
        return Passthrough("archive is its own member", tool, "link")
    key_env = {k: env[k] for k in ("LANG", "LC_ALL", "LC_MESSAGES") if k in env}
    return Invocation(
        family=FAMILY,
        tool=tool,
        args=args,
        cwd=cwd,
        env=env,
        # the archive's name is not in its bytes (a thin one's member paths are
        # relative to it); its prior content, or absence, is (key_files)
        key_args=list(args) if thin else ["zccache:archive" if a == archive else a for a in args],
        sources=list(members),
        outputs={"archive": archive},
        key_env=key_env,
        can_preprocess=False,
        time_macros_ok=True,
        text_inputs=False,
        key_files=[archive],
        in_place=frozenset({archive}),
    )
