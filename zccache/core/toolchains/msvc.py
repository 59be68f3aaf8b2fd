"""The cl.exe-syntax family: clang-cl compiles (``/c a.c /Foa.obj``), as Windows
targets are cross-built on Linux.

Recognised by asking the compiler, as the gcc family is: a tool is cl-like when
``/EP`` on a probe file expands ``_MSC_VER``, and clang-cl when it also expands
``__clang_major__``. Only clang-cl is cached; a real cl.exe passes through (none
runs here to test against).

The headers come from ``/showIncludes``, added to a miss's run when the user did not
ask for it (its lines are then taken out of the stdout the user sees and the store
keeps). A debug object (``/Z7``, ``/Zi``) records the compiler's command line, so
there the compile runs as asked and a syntax-only run (``/Zs``) lists the headers.
They become the manifest, with the same shadowing probes as gcc's include
paths (the search list is clang-cl's own ``-v`` answer). A precompiled header that
``/Yu`` reads is in the key by content, and the headers it was made from by a scan
without it; creating one (``/Yc``) passes through, as gcc's does.

Without ``/Brepro`` clang-cl stamps each object with the time of the compile; a hit
gives the stamp of the compile that stored it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from zccache.core.hashing import Hasher, stat_sig
from zccache.core.hookspecs import hookimpl
from zccache.core.invocation import Invocation, Memo, Passthrough, RunResult, SearchPath
from zccache.core.manifest import FileHashes
from zccache.core.process import run_tool, scratch_dir
from zccache.core.toolchains import msvc_cmdline as cmdline
from zccache.core.toolchains.cmdline import not_a_file
from zccache.core.toolchains.compiler_probe import PROBE_SECONDS
from zccache.core.toolchains.gcc import parse_search_list
from zccache.core.toolchains.gcc_inputs import has_include_inputs
from zccache.core.toolchains.tool_memo import ToolMemo

NAME = "msvc"
SHOW_INCLUDES = b"Note: including file:"
# Environment the compiler reads: its value is part of the key
_KEY_ENV = ("INCLUDE", "EXTERNAL_INCLUDE", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "SOURCE_DATE_EPOCH",
            "CCC_OVERRIDE_OPTIONS")
# Where clang-cl finds an MSVC installation's headers when no option says: they move
# its system include directories, so they are in the key and the search list's memo
_VC_ENV = ("VCToolsInstallDir", "VCINSTALLDIR", "VSINSTALLDIR", "WindowsSdkDir", "WindowsSDKVersion",
           "WindowsSdkVersion", "UniversalCRTSdkDir", "UCRTVersion")
# Options the compiler takes from the environment, which no command line shows
_ENV_OPTIONS = ("CL", "_CL_")
_PROBE_TEXT = b"zccache_msvc=_MSC_VER;\nzccache_clang=__clang_major__;\n"


@dataclass(frozen=True)
class ClProbe:
    kind: str  # "clang-cl", "msvc" (a cl.exe), or "" for a tool that is neither
    macros: bytes  # what /EP made of the probe: part of the identity


_probes: ToolMemo[ClProbe] = ToolMemo("msvc-compiler", ClProbe)


def probe(tool: str, env: Mapping[str, str]) -> ClProbe:
    return _probes.get(tool, lambda: _ask(tool, env), ClProbe("", b""), env=env)


def _ask(tool: str, env: Mapping[str, str]) -> ClProbe:
    """Run in a directory of its own: a tool that is not cl-like may take the words
    for files and write something."""
    tmpdir = scratch_dir(env, "zccache-cl-")
    try:
        source = os.path.join(tmpdir, "probe.c")
        with open(source, "wb") as f:
            f.write(_PROBE_TEXT)
        rc, out, _ = run_tool([tool, "/nologo", "/EP", source], tmpdir, env, timeout=PROBE_SECONDS)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    if rc != 0 or b"zccache_msvc=_MSC_VER" in out or b"zccache_msvc=" not in out:
        return ClProbe("", b"")
    kind = "msvc" if b"zccache_clang=__clang_major__" in out else "clang-cl"
    return ClProbe(kind, out)


@dataclass
class Details:
    line: cmdline.ClLine
    source: str
    lang: str


def split_show_includes(stdout: bytes) -> tuple[list[str], bytes]:
    """(the headers /showIncludes named, in order; stdout without those lines)."""
    headers: list[str] = []
    rest: list[bytes] = []
    for line in stdout.splitlines(keepends=True):
        if line.startswith(SHOW_INCLUDES):
            path = line[len(SHOW_INCLUDES):].strip(b" \r\n")
            headers.append(path.decode("utf-8", "surrogateescape"))
        else:
            rest.append(line)
    return headers, b"".join(rest)


class MsvcFamily:
    """clang-cl compiles: the manifest takes the headers from /showIncludes."""

    name = NAME

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        rc, out, err = run_tool([tool, "--version"], os.getcwd(), env)
        return b"%d\0%s\0%s\0%s" % (rc, out, err, probe(tool, env).macros)

    def execute(self, inv: Invocation) -> RunResult:
        d: Details = inv.details
        # CodeView's build record holds the compiler's command line: a debug object
        # is compiled as asked, and its headers listed by a second, syntax-only run.
        # So is a compile that reads a precompiled header: /showIncludes leaves out
        # the headers it was made from, whose text clang still reads (a macro's
        # digits), so the scan runs without it (/Y-).
        scan = (d.line.debug and not d.line.show_includes) or d.line.pch_use is not None
        ours = [] if d.line.show_includes or scan else ["/showIncludes"]  # first: after "--" all are inputs
        rc, out, err = run_tool([*inv.prefix, inv.tool, *ours, *inv.args], inv.cwd, inv.env, inv.umask)
        headers, rest = split_show_includes(out)
        shown = rest if ours else out
        if rc != 0:
            return RunResult(rc, shown, err)
        if scan:
            no_pch = ["/Y-"] if d.line.pch_use is not None else []
            scan_rc, listed, _ = run_tool([inv.tool, "/showIncludes", "/Zs", *no_pch,
                                           *cmdline.without_outputs(inv.args)], inv.cwd, inv.env, inv.umask)
            if scan_rc != 0:
                return RunResult(rc, shown, err, None, "dependency scan failed")
            headers, _ = split_show_includes(listed)
        source = os.path.normpath(os.path.join(inv.cwd, d.source))
        inputs = [h for h in headers if os.path.normpath(os.path.join(inv.cwd, h)) != source]
        return RunResult(rc, shown, err, inputs)

    def unlisted_inputs(self, inv: Invocation, headers: list[str], dirs: SearchPath,
                        hashes: FileHashes) -> tuple[list[str], list[str]]:
        """The names __has_include tests, where they would be found: one that appears
        changes the program, and /showIncludes names none of them."""
        return has_include_inputs(inv.cwd, inv.details.source, headers, dirs, hashes)

    def preprocess(self, inv: Invocation) -> RunResult:
        d: Details = inv.details
        rc, out, err = run_tool([inv.tool, "/E", *cmdline.without_outputs(inv.args)], inv.cwd, inv.env)
        if rc == 0 and d.line.pch is not None:
            return RunResult(1, b"", b"precompiled header")  # /E does not read it: its text is not the compile's
        return RunResult(rc, out, err)

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        """clang-cl's own search list (``-v``), memoised per argument set."""
        d: Details = inv.details
        h = Hasher("msvc-search-v1")
        h.text(inv.tool)
        h.text(repr(stat_sig(os.stat(inv.tool))))
        h.text(d.lang)
        h.text(inv.cwd)
        for arg in d.line.search_args:
            h.text(arg)
        for name in ("INCLUDE", "EXTERNAL_INCLUDE", *_VC_ENV, "PATH"):  # PATH: a cl.exe there names one too
            h.text(inv.env.get(name, ""))
        key = "msvc-search:" + h.hexdigest()
        known = memo.get(key)
        if isinstance(known, list) and len(known) == 2:
            return SearchPath(order=list(known[0]), system=list(known[1]))
        command = [inv.tool, *d.line.search_args, "-v", "/E", "/TC" if d.lang == "c" else "/TP", os.devnull]
        rc, _, err = run_tool(command, inv.cwd, inv.env)
        order, system = parse_search_list(err.decode("utf-8", "surrogateescape"),
                                          [f"-I{i}" for i in d.line.include_dirs])
        if rc == 0:
            memo.set(key, [order, system])
        return SearchPath(order=order, system=system)


FAMILY = MsvcFamily()


def _is_named_cl(tool: str) -> bool:
    name = os.path.basename(tool).lower().removesuffix(".exe")
    base = name.rsplit("-", 1)[0] if name.rsplit("-", 1)[-1].replace(".", "").isdigit() else name
    return base in ("cl", "clang-cl") or base.endswith("-clang-cl")


@hookimpl
def zccache_classify(argv: list[str], cwd: str, env: Mapping[str, str]):
    """clang-cl and cl by name; any other tool only when its command line is a
    cl-style compile we would cache, and it says it is one (the probe)."""
    named = _is_named_cl(argv[0])
    found = classify(argv, cwd, env)
    if isinstance(found, Passthrough) and not named:
        return None
    kind = probe(argv[0], env).kind
    if not kind:
        return None
    if kind != "clang-cl":
        return Passthrough("cl.exe (only clang-cl is cached)", argv[0])
    return found


def classify(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough:
    tool = argv[0]
    for name in _ENV_OPTIONS:
        if env.get(name):
            return Passthrough(f"{name} environment options", tool)
    try:
        args = cmdline.expand(argv[1:], cwd)
    except (OSError, UnicodeDecodeError):
        return Passthrough("response file unreadable", tool)
    line = cmdline.parse(args, cwd)
    if isinstance(line, str):
        return Passthrough(line, tool)
    source, lang = line.sources[0]
    output = cmdline.object_path(line, cwd)
    if not_a_file(cwd, output):
        return Passthrough("output is not a regular file", tool)
    key_args = list(line.key_args)
    if line.debug:
        # CodeView names the object, the directory and the compiler it was built by
        key_args += ["zccache:object=" + os.path.normpath(os.path.join(cwd, output)), "zccache:tool=" + tool]
    key_env = {k: env[k] for k in (*_KEY_ENV, *_VC_ENV) if k in env
               and not (line.no_env_include and k.endswith("INCLUDE"))}
    key_files = [os.path.normpath(os.path.join(cwd, line.pch))] if line.pch_use else []
    return Invocation(
        family=FAMILY,
        tool=tool,
        args=args,
        cwd=cwd,
        env=env,
        key_args=key_args,
        sources=[source],
        outputs={"object": output},
        key_env=key_env,
        hash_cwd=line.debug,
        key_files=key_files,
        details=Details(line=line, source=source, lang=lang),
    )
