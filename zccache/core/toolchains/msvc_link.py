"""link.exe-syntax links and archives: lld-link and llvm-lib (Windows targets built
on Linux).

lld-link writes no dependency file, but ``/verbose`` names every file it reads
("Reading a.obj", "Reading L/foo.lib"), the default libraries the objects ask for
included. A miss runs the link with it, takes those lines out of stderr (when the
user did not ask for them), and records every file read by content, as a compile's
headers; each library it looked up by name is probed in the directories searched
before the one it came from (the working directory, ``/libpath:``, then ``LIB``), so
that one appearing earlier misses, as a shadowing header does.

llvm-lib reads only the files its command line names, which are the key.

The import library (``/implib:``, and a DLL's by default) is written only when the
image exports something: a result may hold it or its absence. What would write a
file we do not name (``/debug``'s .pdb, maps, a manifest beside the output), or read
one nobody lists, passes through with its reason. Without ``/Brepro`` lld-link stamps the image with the time of the link:
a hit gives the stamp of the link that stored it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from zccache.core.config import env_flag
from zccache.core.hookspecs import hookimpl
from zccache.core.invocation import Invocation, Memo, Passthrough, RunResult, SearchPath
from zccache.core.manifest import FileHashes
from zccache.core.process import run_tool
from zccache.core.toolchains import msvc_cmdline
from zccache.core.toolchains.cmdline import not_a_file

_LLD_LINK = re.compile(r"^(?:.*-)?lld-link(?:-\d+(?:\.\d+)*)?(?:\.exe)?$", re.I)
_LLVM_LIB = re.compile(r"^(?:.*-)?llvm-lib(?:-\d+(?:\.\d+)*)?(?:\.exe)?$", re.I)
# Options (lower-cased, without / or -) whose value names an input file
_INPUT_VALUES = ("def", "natvis", "manifestinput", "wholearchive")
# Options that write a file beside the output, read one no line names, or make no
# link; a value after the name, where given, is the only one allowed
_LINK_REFUSED = {"debug": ("none", "no"), "map": (), "lldmap": (), "reproduce": (), "linkrepro": (), "lib": (),
                 "manifest": ("no", "embed"), "manifestfile": (), "dump": (), "edit": (), "winmd": (),
                 "winmdfile": (), "pdbstream": (), "pdbstripped": (), "lto-obj-path": (), "lldltocache": (),
                 "lldsavetemps": (), "mllvm": (), "order": (), "profile": (), "help": (), "?": (),
                 "thinlto-index-only": (), "thinlto-emit-imports-files": (), "thinlto-prefix-replace": (),
                 "thinlto-object-suffix-replace": (), "natvis": (), "delayload": ()}
_LIB_REFUSED = {"def": (), "list": (), "llvmlibthin": (), "extract": (), "name": (), "help": (), "?": ()}
_VERBOSE_LINE = re.compile(rb"^[^\s:]+: (?!error:|warning:)")
_READING = re.compile(rb"^[^\s:]+: Reading (.+?)\r?$")
_KEY_ENV = ("LIB", "LANG", "LC_ALL", "LC_MESSAGES")


@dataclass
class LinkLine:
    output: str = ""
    inputs: list[str] = field(default_factory=list)  # files named by the line, in order
    lib_dirs: list[str] = field(default_factory=list)  # /libpath:, in order
    user_verbose: bool = False
    implib: str | None = None  # /implib:
    dll: bool = False


def _option(word: str) -> tuple[str, str] | None:
    """(lower-cased name, value) of a /name:value word; None for an input."""
    if not word.startswith(("/", "-")) or len(word) < 2:
        return None
    name, _, value = word[1:].partition(":")
    return name.lower(), value


def parse_link(args: list[str], cwd: str, refused: dict[str, tuple[str, ...]]) -> LinkLine | str:
    line = LinkLine()
    for a in args:
        option = _option(a)
        if option is None or (a.startswith("/") and os.path.isfile(os.path.join(cwd, a))):
            line.inputs.append(a)
            continue
        name, value = option
        if name in refused and value.lower() not in refused[name]:
            return f"unsupported option {a[0]}{name}"
        if name == "out":
            line.output = value
        elif name == "implib":
            line.implib = value
        elif name == "dll":
            line.dll = True
        elif name == "libpath":
            line.lib_dirs.append(value)
        elif name in _INPUT_VALUES:
            line.inputs.append(value)
    if not line.output:
        return "no /out:"
    return line


class LldLinkFamily:
    """lld-link: /verbose's "Reading" lines are the link's dependency list."""

    name = "lld-link"
    action = "link"

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        rc, out, err = run_tool([tool, "--version"], os.getcwd(), env)
        return b"%d\0%s\0%s" % (rc, out, err)

    def execute(self, inv: Invocation) -> RunResult:
        line: LinkLine = inv.details
        rc, out, err = run_tool([inv.tool, "/verbose", *inv.args], inv.cwd, inv.env, inv.umask)
        read: list[str] = []
        kept: list[bytes] = []
        for text in err.splitlines(keepends=True):
            found = _READING.match(text.rstrip(b"\n"))
            if found:
                name = found.group(1).decode("utf-8", "surrogateescape")
                if not name.endswith(")") or os.path.isfile(os.path.join(inv.cwd, name)):  # not "lib(member)"
                    read.append(name)
            if not _VERBOSE_LINE.match(text):
                kept.append(text)
        shown = err if line.user_verbose else b"".join(kept)
        if rc != 0:
            return RunResult(rc, out, shown)
        return RunResult(rc, out, shown, read)

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        """Where a library named without a directory is looked for, in order."""
        line: LinkLine = inv.details
        env_dirs = [d for d in inv.env.get("LIB", "").split(os.pathsep) if d]
        order = [".", *(os.path.normpath(d) for d in [*line.lib_dirs, *env_dirs])]  # as given: manifest.Places
        return SearchPath(order=list(dict.fromkeys(order)), system=[])

    def unlisted_inputs(self, inv: Invocation, inputs: list[str], dirs: SearchPath,
                        hashes: FileHashes) -> tuple[list[str], list[str]]:
        """A library read from a search directory: the same name in every directory
        searched before it."""
        absent: list[str] = []
        order = [os.path.normpath(os.path.join(inv.cwd, d)) for d in dirs.order]
        for name in inputs:
            full = os.path.normpath(os.path.join(inv.cwd, name))
            where = os.path.dirname(full)
            if where not in order:
                continue
            base = os.path.basename(full)
            absent.extend(os.path.join(d, base) for d in dirs.order[: order.index(where)])
        return [], list(dict.fromkeys(absent))

    def preprocess(self, inv: Invocation) -> RunResult:
        return RunResult(1, b"", b"a link has no preprocessor")


class LlvmLibFamily:
    """llvm-lib: an archive of the files its line names, nothing else read."""

    name = "llvm-lib"
    action = "link"

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        return b""  # llvm-lib says nothing of itself; its bytes are the identity

    def execute(self, inv: Invocation) -> RunResult:
        rc, out, err = run_tool(inv.command, inv.cwd, inv.env, inv.umask)
        return RunResult(rc, out, err, [] if rc == 0 else None)

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        return SearchPath(order=[], system=[])

    def preprocess(self, inv: Invocation) -> RunResult:
        return RunResult(1, b"", b"an archive has no preprocessor")


LLD_LINK = LldLinkFamily()
LLVM_LIB = LlvmLibFamily()


@hookimpl
def zccache_classify(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough | None:
    name = os.path.basename(argv[0])
    if _LLD_LINK.match(name):
        found = classify_link(argv, cwd, env, LLD_LINK, _LINK_REFUSED)
    elif _LLVM_LIB.match(name):
        found = classify_link(argv, cwd, env, LLVM_LIB, _LIB_REFUSED)
    else:
        return None
    if isinstance(found, Invocation) and not env_flag(env, "ZCCACHE_LINKS", True):
        return Passthrough("link caching off (ZCCACHE_LINKS=0)", argv[0], "link")
    return found


def classify_link(argv: list[str], cwd: str, env: Mapping[str, str], family, refused: dict[str, tuple[str, ...]]):
    tool = argv[0]
    try:
        args = msvc_cmdline.expand(argv[1:], cwd)
    except (OSError, UnicodeDecodeError):
        return Passthrough("response file unreadable", tool, "link")
    if family is LLD_LINK and any(a.lower() in ("/verbose", "-verbose") for a in args):
        return Passthrough("unsupported option /verbose", tool, "link")
    if family is LLD_LINK and (env.get("LINK") or env.get("_LINK_")):
        return Passthrough("LINK environment options", tool, "link")  # lld-link adds them to its line
    line = parse_link(args, cwd, refused)
    if isinstance(line, str):
        return Passthrough(line, tool, "link")
    outputs = {"output": line.output}
    if family is LLD_LINK and (line.dll or line.implib):
        # written only when the image exports something (a DLL's default: beside it)
        outputs["implib"] = line.implib or os.path.splitext(line.output)[0] + ".lib"
    for path in outputs.values():
        if not_a_file(cwd, path) or os.path.islink(os.path.join(cwd, path)):
            return Passthrough("link output is not a regular file", tool, "link")
    if len(set(outputs.values())) != len(outputs):
        return Passthrough("link outputs overlap", tool, "link")
    for path in line.inputs:
        full = os.path.join(cwd, path)
        if family is LLVM_LIB and not os.path.isfile(full):
            return Passthrough("archive member is not a file", tool, "link")
        if os.path.normpath(full) in {os.path.normpath(os.path.join(cwd, o)) for o in outputs.values()}:
            return Passthrough("output is its own input", tool, "link")
    return Invocation(
        family=family,
        tool=tool,
        args=list(argv[1:]),
        cwd=cwd,
        env=env,
        # the output's name stays in the key: a PE image names its own file (exports)
        key_args=list(args),
        sources=[p for p in line.inputs if os.path.isfile(os.path.join(cwd, p))],
        outputs=outputs,
        optional=frozenset({"implib"} & set(outputs)),
        key_env={k: env[k] for k in _KEY_ENV if k in env},
        can_preprocess=False,
        time_macros_ok=True,
        text_inputs=False,
        details=line,
    )
