"""The rustc family: crates compiled under cargo's RUSTC_WRAPPER.

Cacheable: lib/rlib/staticlib and proc-macro crates, and (as the Rust zccache does
and sccache does not) bin crates, build scripts and cdylib/dylib crates, whose
link inputs are in the key: every ``--extern`` artifact by content, the linker
binary, and the native libraries ``-l`` finds in the ``-L`` directories. Passed
through with a reason: ``-C incremental``, stdin input, ``--print`` queries, explicit
output paths, unstable ``-Z`` options, and anything else this parser is unsure of.

Key: rustc's identity (binary + ``rustc -vV``), the arguments, the primary source and
the link inputs by content; then, as for C, a manifest of every source file rustc's
own dep-info lists and every environment variable it records (``# env-dep:``), so an
edit of any module or a change of any ``env!`` variable misses.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

from zccache.core.hookspecs import hookimpl
from zccache.core.invocation import Invocation, Memo, Passthrough, RunResult, SearchPath
from zccache.core.process import run_tool

NAME = "rustc"
_VALUE_OPTS = {
    "--crate-name", "--crate-type", "--edition", "--emit", "--out-dir", "-o", "-C", "--codegen", "-L", "-l",
    "--extern", "--cfg", "--check-cfg", "--target", "--error-format", "--json", "--cap-lints", "-W", "-A", "-D",
    "-F", "--warn", "--allow", "--deny", "--forbid", "--force-warn", "--print", "--explain", "--sysroot", "-Z",
    "--remap-path-prefix", "--color", "--diagnostic-width", "--env-set", "--crate-attr",
}  # plus flags: --test builds the test harness executable
_LINKING = {"bin", "cdylib", "dylib", "proc-macro"}
_KNOWN_TYPES = {"lib", "rlib", "staticlib", "proc-macro", "bin", "cdylib", "dylib"}
# Environment rustc (and the linker it starts) reads for every crate.
_KEY_ENV = ("RUSTC_BOOTSTRAP", "LIBRARY_PATH", "SDKROOT", "MACOSX_DEPLOYMENT_TARGET", "RUSTC_FORCE_RUSTC_VERSION")


@dataclass
class RustArgs:
    crate_name: str | None = None
    crate_types: list[str] = field(default_factory=list)
    emit: list[str] = field(default_factory=list)
    out_dir: str | None = None
    codegen: dict[str, str] = field(default_factory=dict)
    externs: list[tuple[str, str]] = field(default_factory=list)  # (name, path)
    lib_dirs: list[str] = field(default_factory=list)
    libs: list[str] = field(default_factory=list)
    source: str | None = None
    query: bool = False  # -vV, --print ..., or stdin input


class RustcFamily:
    """rustc under cargo's RUSTC_WRAPPER: crates keyed on the primary source, every
    --extern by content and the linker for crates that link; the manifest from
    rustc's own dep-info, with the environment variables it says it read."""

    name = NAME

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        rc, out, err = run_tool([tool, "-vV"], os.getcwd(), env)
        return b"%d\0%s\0%s" % (rc, out, err)

    def execute(self, inv: Invocation) -> RunResult:
        rc, out, err = run_tool(inv.command, inv.cwd, without_jobserver(inv.env), inv.umask)
        if rc != 0 or inv.details is None:
            return RunResult(rc, out, err, [] if inv.details is None else None)
        depfile = os.path.join(inv.cwd, inv.outputs["dep-info"])
        try:
            with open(depfile, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError:
            return RunResult(rc, out, err, None, "no dep-info written")
        sources, env_deps = parse_dep_info(text)
        primary = os.path.normpath(os.path.join(inv.cwd, inv.sources[0]))
        inputs = [s for s in sources if os.path.normpath(os.path.join(inv.cwd, s)) != primary]
        return RunResult(rc, out, err, inputs, env_inputs=env_deps)

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        return SearchPath(order=[], system=[])  # modules are found by path, not by a search list

    def preprocess(self, inv: Invocation) -> RunResult:
        raise NotImplementedError("rustc has no preprocessor")

    def artifact_info(self, inv: Invocation) -> dict | None:
        details: RustArgs | None = inv.details
        if details is None:
            return None  # a query, not an artifact
        return {"crate_name": details.crate_name, "crate_types": details.crate_types,
                "outputs": [os.path.normpath(os.path.join(inv.cwd, p)) for p in inv.outputs.values()]}


FAMILY = RustcFamily()


@hookimpl
def zccache_classify(argv: list[str], cwd: str, env: Mapping[str, str]):
    base = os.path.basename(argv[0])
    if base != "rustc" and not (base.startswith("rustc-") or base.endswith("-rustc")):
        return None
    return classify(argv, cwd, env)


def without_jobserver(env: Mapping[str, str]) -> dict[str, str]:
    """cargo hands rustc a jobserver as inherited file descriptors named in
    CARGO_MAKEFLAGS. A compile zccache runs (from the daemon, or a child that does
    not inherit them) cannot reach them, and rustc would print a warning into the
    diagnostics we store and replay; without the variable it schedules by itself."""
    return {k: v for k, v in env.items()
            if k != "CARGO_MAKEFLAGS" and not (k in ("MAKEFLAGS", "MFLAGS") and "jobserver" in v)}


def parse(args: list[str]) -> RustArgs | Passthrough:
    r = RustArgs()
    i = 0
    while i < len(args):
        a = args[i]
        opt, value = a, None
        if a.startswith("--") and "=" in a and a.split("=", 1)[0] in _VALUE_OPTS:
            opt, value = a.split("=", 1)
        elif a in _VALUE_OPTS:
            if i + 1 >= len(args):
                return Passthrough(f"missing value for {a}")
            value = args[i + 1]
            i += 1
        elif len(a) > 2 and a[:2] in ("-C", "-L", "-l", "-W", "-A", "-D", "-F", "-Z") and a[1].isalpha():
            opt, value = a[:2], a[2:]
        i += 1
        if opt in ("--explain", "--help", "-h"):
            return Passthrough("not a compile (help)")
        if opt in ("-", "--print", "-V", "--version", "-vV"):
            r.query = True
            continue
        if opt == "-Z":
            return Passthrough("unstable -Z option")
        if opt == "-o":
            return Passthrough("explicit output path (-o)")
        if opt == "--test":
            r.crate_types.append("bin")  # the test harness: an executable
        elif opt == "--crate-name":
            r.crate_name = value
        elif opt == "--crate-type":
            r.crate_types.extend(t.strip() for t in (value or "").split(","))
        elif opt == "--emit":
            for kind in (value or "").split(","):
                if "=" in kind:
                    return Passthrough("explicit --emit path")
                r.emit.append(kind.strip())
        elif opt == "--out-dir":
            r.out_dir = value
        elif opt in ("-C", "--codegen"):
            key, _, val = (value or "").partition("=")
            r.codegen[key.strip()] = val
        elif opt == "--extern":
            name, eq, path = (value or "").partition("=")
            if eq and path:
                r.externs.append((name, path))
        elif opt == "-L":
            kind, eq, path = (value or "").partition("=")
            r.lib_dirs.append(path if eq else kind)
        elif opt == "-l":
            r.libs.append(value or "")
        elif value is None and not a.startswith("-"):
            if r.source is not None:
                return Passthrough("more than one input")
            r.source = a
    return r


def classify(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough:
    tool = argv[0]
    r = parse(argv[1:])
    if isinstance(r, Passthrough):
        return Passthrough(r.reason, tool)
    if r.query:
        return _query(tool, argv, cwd, env, r)
    if r.source is None:
        return Passthrough("no source file", tool)
    if "incremental" in r.codegen:
        return Passthrough("incremental compilation (-C incremental)", tool)
    if r.codegen.get("split-debuginfo", "off") not in ("off", ""):
        return Passthrough("split debuginfo", tool)
    if "save-temps" in r.codegen or "profile-generate" in r.codegen or "profile-use" in r.codegen:
        return Passthrough("unsupported codegen option", tool)
    if not r.crate_name or not r.crate_types or not r.out_dir or not r.emit:
        return Passthrough("crate name, type, --emit or --out-dir not given", tool)
    if any(t not in _KNOWN_TYPES for t in r.crate_types):
        return Passthrough("unknown crate type", tool)
    if "dep-info" not in r.emit:
        return Passthrough("no dep-info requested", tool)
    if any(k not in ("dep-info", "metadata", "link") for k in r.emit):
        return Passthrough("unsupported --emit kind", tool)
    extra = r.codegen.get("extra-filename", "")
    stem = f"{r.crate_name}{extra}"
    outputs = {"dep-info": os.path.join(r.out_dir, f"{stem}.d")}
    if "metadata" in r.emit:
        outputs["rmeta"] = os.path.join(r.out_dir, f"lib{stem}.rmeta")
    if "link" in r.emit:
        for t in r.crate_types:
            name = {"lib": f"lib{stem}.rlib", "rlib": f"lib{stem}.rlib", "staticlib": f"lib{stem}.a",
                    "bin": stem, "proc-macro": f"lib{stem}.so", "cdylib": f"lib{stem}.so", "dylib": f"lib{stem}.so"}[t]
            outputs[t if t != "lib" else "rlib"] = os.path.join(r.out_dir, name)
    inputs = [r.source]
    for _name, path in r.externs:
        inputs.append(path)
    links = any(t in _LINKING for t in r.crate_types) and "link" in r.emit
    if links:
        linker = r.codegen.get("linker") or "cc"
        found = linker if os.sep in linker else shutil.which(linker, path=env.get("PATH", os.defpath))
        if not found:
            return Passthrough("linker not found", tool)
        inputs.append(os.path.join(cwd, found))
        for lib in r.libs:
            name = lib.split("=", 1)[-1].split(":", 1)[0]
            for directory in r.lib_dirs:
                for candidate in (f"lib{name}.a", f"lib{name}.so"):
                    path = os.path.join(cwd, directory, candidate)
                    if os.path.isfile(path):
                        inputs.append(path)
    key_args = []
    skip_next = False
    for a in argv[1:]:
        if skip_next:
            skip_next = False
            key_args.append(a.split("=", 1)[0] + "=<extern>")  # by name here, by content as an input
            continue
        if a == "--extern":
            key_args.append(a)
            skip_next = True
            continue
        if a.startswith("--extern="):
            key_args.append(a.split("=", 2)[0] + "=" + a.split("=", 2)[1] + "=<extern>")
            continue
        key_args.append(a)
    debuginfo = r.codegen.get("debuginfo", "0") not in ("0", "none", "false", "")
    key_env = {k: env[k] for k in _KEY_ENV if k in env}
    return Invocation(
        family=FAMILY,
        tool=tool,
        args=list(argv[1:]),
        cwd=cwd,
        env=env,
        key_args=key_args,
        sources=inputs,
        outputs=outputs,
        key_env=key_env,
        hash_cwd=debuginfo,
        can_preprocess=False,
        time_macros_ok=True,  # Rust has no __DATE__/__TIME__
        details=r,
    )


def _query(tool: str, argv: list[str], cwd: str, env: Mapping[str, str], r: RustArgs) -> Invocation | Passthrough:
    """`rustc -vV` and `rustc - --print=...`: cargo asks these at the start of every
    build whose target directory was cleaned. Their answer depends on the compiler
    (binary, path) and the arguments only, and stdin is empty as cargo gives it."""
    is_print = any(a == "--print" or a.startswith("--print=") for a in argv[1:])
    if r.source is not None or (("-" in argv[1:]) and not is_print) or r.emit or r.out_dir:
        return Passthrough("input from stdin" if "-" in argv[1:] else "not a compile (query)", tool)
    return Invocation(family=FAMILY, tool=tool, args=list(argv[1:]), cwd=cwd, env=env,
                      key_args=["zccache:query", tool, *argv[1:]], sources=[], outputs={},
                      key_env={k: env[k] for k in _KEY_ENV if k in env}, can_preprocess=False,
                      time_macros_ok=True, details=None)


def parse_dep_info(text: str) -> tuple[list[str], dict[str, str | None]]:
    """Source files and ``env-dep`` variables from rustc's dep-info file."""
    from zccache.core.toolchains.cmdline import parse_depfile

    env: dict[str, str | None] = {}
    rules = []
    for line in text.splitlines():
        if line.startswith("# env-dep:"):
            name, eq, value = line[len("# env-dep:") :].partition("=")
            env[name] = _unescape_env(value) if eq else None
        elif not line.startswith("#"):
            rules.append(line)
    return parse_depfile("\n".join(rules)), env


def _unescape_env(value: str) -> str:
    """rustc writes env-dep values with backslash and newline escaped."""
    out = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append("\n" if value[i + 1] == "n" else value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)
