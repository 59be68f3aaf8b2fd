"""The gcc/clang family: command-line parsing, dependency discovery, search paths.

Registered as a plugin through the same ``zccache_classify`` hook a third-party
family would implement. Anything this parser does not understand well enough to be
sure of the outputs is passed through with a reason, never guessed at.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

from zccache.core.config import env_flag
from zccache.core.hashing import Hasher, hash_file, stat_sig
from zccache.core.hookspecs import hookimpl
from zccache.core.invocation import Batch, Invocation, Memo, Passthrough, RunResult, SearchPath
from zccache.core.manifest import FileHashes
from zccache.core.process import run_tool, scratch_dir
from zccache.core.single_use import stable_name
from zccache.core.toolchains.cmdline import expand_response_files, not_a_file, parse_depfile
from zccache.core.toolchains.compiler_probe import Probe, known_kind, native_flags, probe
from zccache.core.toolchains.gcc_options import (
    ATTACHED,
    CACHEABLE_LANGS,
    COMPILER_NAME,
    KEY_FILE_OPTIONS,
    KINDS,
    LANG_OF_EXT,
    MAP_OPTIONS,
    PASSTHROUGH_EXACT,
    PASSTHROUGH_PREFIXES,
    PATH_OPTIONS,
    PROFILE_GENERATE,
    PROFILE_USE,
    SEARCH_PREFIXES,
    TAKES_VALUE,
    is_longer_option,
    rewrite_basedir,
)
from zccache.core.toolchains.gcc_driver import driver_key
from zccache.core.toolchains.gcc_inputs import PCH_SUFFIXES, profile_files, unlisted_inputs

NAME = "gcc"
_PCH_PRAGMA = re.compile(rb'^#pragma GCC pch_preprocess "([^"]+)"', re.M)
# Emscripten reads its settings from these variables (and EMCC_CFLAGS adds flags)
_EMSCRIPTEN_ENV = ("EM_", "EMCC_", "EMSDK")

# What -Xclang may pass to clang's front end in a compile we cache (CMake's clang PCH
# rules use the first two); anything else is passed through.
_XCLANG_OK = {"-include-pch", "-include", "-fno-pch-timestamp", "-fcolor-diagnostics", "-fno-color-diagnostics"}
_NATIVE = ("-march=native", "-mcpu=native", "-mtune=native")
# Environment the compiler reads; its value is part of the key.
_KEY_ENV = ("CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH", "SOURCE_DATE_EPOCH",
            "GCC_EXEC_PREFIX", "COMPILER_PATH", "GCC_COMPARE_DEBUG", "LANG", "LC_ALL", "LC_CTYPE",
            "LC_MESSAGES", "LANGUAGE", "CCC_OVERRIDE_OPTIONS", "SDKROOT", "MACOSX_DEPLOYMENT_TARGET")
# gcc's driver writes a second depfile when one of these names it ("file [target]"),
# appending to it; the first one set wins, and a command line's own -MD/-MMD turns both off.
_ENV_DEPFILE = ("DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES")
# clang writes (appends) what these ask for into files only the environment names
_ENV_OUTPUTS = ("CC_PRINT_HEADERS", "CC_LOG_DIAGNOSTICS", "CC_PRINT_OPTIONS", "CC_PRINT_PROC_STAT")

# -g, -ggdb3, -gdwarf-4, -g0 ...: switches debug info on (or, at level 0, off).
_DEBUG_LEVEL = re.compile(r"^-g(gdb|dwarf|dwarf-[2-5]|stabs\+?|xcoff\+?|vms|line-tables-only|full|btf|ctf)?([0-3]?)$")


@dataclass
class Parsed:
    """What the command line says, independent of any one source file."""

    args: list[str]  # expanded, basedir-rewritten
    sources: list[tuple[int, str, str]]  # (index in args, path, language)
    output: str | None
    mode: str  # "-c" or "-S"
    depfile: str | None  # -MF value
    md: bool
    mmd: bool
    dep_target_given: bool
    debug: bool
    split_dwarf: bool
    coverage: bool
    profile_arcs: bool
    stack_usage: bool
    callgraph_info: bool = False
    search_args: list[str] = field(default_factory=list)
    prefix_maps: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, old, new)
    includes: list[str] = field(default_factory=list)  # -include files, in order
    include_pchs: list[str] = field(default_factory=list)  # clang's -include-pch files
    profile_use: str | None = None  # feedback path given ('' for none); None: no profile use
    profile_dir: str | None = None  # -fprofile-dir=
    read_files: list[str] = field(default_factory=list)  # files named by KEY_FILE_OPTIONS
    specs: list[str] = field(default_factory=list)  # -specs= files, in order
    exec_prefixes: list[str] = field(default_factory=list)  # -B values
    driver_args: list[str] = field(default_factory=list)  # what moves the driver's search dirs: -B, -m, --sysroot
    asm_dirs: list[str] = field(default_factory=list)  # -Wa,-I: where the assembler looks for .include/.incbin


@dataclass
class Details:
    """Per-source facts the family needs again when it runs the compile."""

    parsed: Parsed
    lang: str
    source: str
    dep_mode: str  # "own": we add -MD; "user-md": read the user's; "scan": an extra -M pass;
    # "env": the DEPENDENCIES_OUTPUT-style file lists them; "none": nothing preprocessed (.s)
    user_depfile: str | None
    env_depfile: tuple[str, str, str] | None = None  # (variable, file, target): see _ENV_DEPFILE
    # What classify read besides the command, for GccFamily.still: the tool's probe
    # and the driver's digest; None when the classification is not kept (plans.py).
    probe: Probe | None = None
    driver: str | None = None


class GccFamily:
    """gcc, clang and Emscripten's emcc compiles (-c, -S): a miss runs the compiler
    with a depfile of ours (and GNU as's list of what it read), the manifest takes the
    headers from it, and unlisted_inputs adds what no depfile names (precompiled
    headers, __has_include names). Links through these drivers are linker.py's."""

    name = NAME

    def still(self, inv: Invocation) -> bool:
        """Whether classify would make this Invocation again for the same command
        (plans.py): it read the tool's probe, whether the outputs are regular files,
        and the files the driver takes; the rest came from the command alone."""
        d: Details = inv.details
        if d.probe is None or probe(inv.tool, inv.env) != d.probe:
            return False
        if not_a_file(inv.cwd, inv.outputs["object"]):
            return False
        if d.user_depfile is not None and ("depfile" in inv.outputs) == not_a_file(inv.cwd, d.user_depfile):
            return False
        if d.driver is not None:
            p = d.parsed
            return driver_key(inv.tool, p.driver_args, p.specs, d.lang, p.mode == "-c", inv.cwd, inv.env) == d.driver
        return True

    # -- identity --------------------------------------------------------------------

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        rc, out, err = run_tool([tool, "-v"], os.getcwd(), env)
        found = probe(tool, env)
        return b"%d\0%s\0%s\0%s\0%s" % (rc, out, err, found.kind.encode(), found.macros)

    def tool_programs(self, tool: str, env: Mapping[str, str]) -> list[str]:
        """The compiler proper and assembler behind the driver (or the wrapper)."""
        return list(probe(tool, env).programs)

    def unlisted_inputs(self, inv: Invocation, headers: list[str], dirs: SearchPath,
                        hashes: FileHashes) -> tuple[list[str], list[str]]:
        d: Details = inv.details
        return unlisted_inputs(inv.cwd, d.source, headers, d.parsed.includes, d.parsed.include_pchs, dirs, hashes)

    # -- running -------------------------------------------------------------------------

    def execute(self, inv: Invocation) -> RunResult:
        d: Details = inv.details
        tmpdir = scratch_dir(inv.env, "zccache-")
        try:
            command = [*inv.prefix, *inv.command]  # ZCCACHE_PREFIX (distcc): the compile only
            env = inv.env
            own_dep = None
            if d.dep_mode == "own":
                own_dep = os.path.join(tmpdir, "deps.d")
                command = [*command, "-MD", "-MF", own_dep]
            # GNU as names every file it read (.include, .incbin): they are keyed like headers
            as_dep = os.path.join(tmpdir, "as.d") if inv.asm_listed and d.parsed.mode == "-c" else None
            if as_dep is not None:
                command = [*command, "-Wa,--MD," + as_dep]
            env_dep = None
            if d.env_depfile is not None:  # the tool writes it into a file of ours; the user's gets it appended
                name, _file, target = d.env_depfile
                env_dep = os.path.join(tmpdir, "env.d")
                env = {**env, name: env_dep + (" " + target if target else "")}
            rc, out, err = run_tool(command, inv.cwd, env, inv.umask)
            appended = {}
            if env_dep is not None:
                appended["envdeps"] = _append_copy(env_dep, os.path.join(inv.cwd, d.env_depfile[1]))
            if rc != 0:
                return RunResult(rc, out, err)
            if d.dep_mode == "none":
                dep_path = None
            elif d.dep_mode == "own":
                dep_path = own_dep
            elif d.dep_mode == "user-md":
                dep_path = os.path.join(inv.cwd, d.user_depfile or "")
            elif d.dep_mode == "env":
                dep_path = env_dep
            else:
                dep_path = os.path.join(tmpdir, "deps.d")
                m_rc, _, _ = run_tool([inv.tool, *_without_outputs(d.parsed.args), "-M", "-MF", dep_path], inv.cwd, inv.env, inv.umask)
                if m_rc != 0:
                    return RunResult(rc, out, err, None, "dependency scan failed")
            try:
                text = _read_text(dep_path) if dep_path is not None else ""
            except OSError:
                return RunResult(rc, out, err, None, "no dependency file")
            source = os.path.normpath(os.path.join(inv.cwd, d.source))
            inputs = [p for p in parse_depfile(text) if os.path.normpath(os.path.join(inv.cwd, p)) != source]
            data, absent = [], []
            if as_dep is not None:
                try:
                    listed = parse_depfile(_read_text(as_dep))
                except OSError:
                    return RunResult(rc, out, err, None, "no assembler dependency file", appended=appended)
                known = {source, *(os.path.normpath(os.path.join(inv.cwd, p)) for p in inputs)}
                data, absent = assembler_inputs(inv.cwd, listed, d.parsed.asm_dirs, known)
            elif d.dep_mode == "none":
                return RunResult(rc, out, err, None, "assembler source without the assembler's list",
                                 appended=appended)
            return RunResult(rc, out, err, inputs, data_inputs=data, absent=absent, appended=appended)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def preprocess(self, inv: Invocation) -> RunResult:
        """The text to key on. gcc's -E reads a header's text even where the compile
        takes its .gch: with -fpch-preprocess it names the .gch instead, whose content
        then joins the text, as do clang's precompiled files."""
        d: Details = inv.details
        gcc_kind = probe(inv.tool, inv.env).kind == "gcc"
        command = [inv.tool, *_without_outputs(d.parsed.args), "-E", *(["-fpch-preprocess"] if gcc_kind else [])]
        rc, out, err = run_tool(command, inv.cwd, inv.env)
        if rc != 0:
            return RunResult(rc, out, err)
        used = [m.decode("utf-8", "surrogateescape") for m in _PCH_PRAGMA.findall(out)]
        pchs = [*used, *d.parsed.include_pchs, *(i + s for i in d.parsed.includes for s in PCH_SUFFIXES)]
        for path in pchs:
            full = os.path.join(inv.cwd, path)
            if os.path.isfile(full):
                out += b"\0zccache-pch\0" + path.encode("utf-8", "surrogateescape") + b"\0" + hash_file(full).encode()
            elif os.path.isdir(full):
                return RunResult(1, b"", b"precompiled header directory")
        return RunResult(rc, out, err)

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        """The compiler's own include search list (``-E -v``), memoised per argument set."""
        d: Details = inv.details
        h = Hasher("gcc-search-v1")
        st = os.stat(inv.tool)
        h.text(inv.tool)
        h.text(repr(stat_sig(st)))
        h.text(d.lang)
        h.text(inv.cwd)
        for arg in d.parsed.search_args:
            h.text(arg)
        for name in ("CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH"):
            h.text(inv.env.get(name, ""))
        key = "gcc-search:" + h.hexdigest()
        known = memo.get(key)
        if isinstance(known, list) and len(known) == 2:
            return SearchPath(order=list(known[0]), system=list(known[1]))
        command = [inv.tool, *d.parsed.search_args, "-x", d.lang, "-E", "-v", os.devnull]
        rc, _, err = run_tool(command, inv.cwd, inv.env)
        order, system = parse_search_list(err.decode("utf-8", "surrogateescape"), d.parsed.args)
        if rc == 0:
            memo.set(key, [order, system])
        return SearchPath(order=order, system=system)


FAMILY = GccFamily()


@hookimpl
def zccache_classify(argv: list[str], cwd: str, env: Mapping[str, str]):
    """gcc, clang and their cross and versioned names are known by name; any other
    tool is asked what it is (compiler_probe), once, and only when its command line
    is a compile we would cache: running an unknown tool with probe arguments is not
    done for commands that could never be served."""
    found = classify(argv, cwd, env)
    if COMPILER_NAME.match(os.path.basename(argv[0])):
        return found
    if isinstance(found, Passthrough):
        return found if known_kind(argv[0], env) in KINDS else None
    if probe(argv[0], tool_env(env)).kind not in KINDS:
        return None
    return found


def classify(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Batch | Passthrough:
    tool = argv[0]
    try:
        args = expand_response_files(argv[1:], cwd)
    except OSError:
        return Passthrough("response file unreadable", tool)
    for name in _ENV_OUTPUTS:
        if env.get(name):
            return Passthrough(f"{name} set", tool)
    basedir = env.get("ZCCACHE_BASEDIR")
    if basedir:
        args = rewrite_basedir(args, os.path.normpath(os.path.abspath(basedir)), cwd)
    temp_root = env.get("ZCCACHE_REMAP_TEMP")
    if temp_root:
        args = [*args, *temp_prefix_maps(args, cwd, os.path.normpath(temp_root))]
    parsed = parse_args(args)
    if isinstance(parsed, Passthrough):
        return Passthrough(parsed.reason, tool)
    if len(parsed.sources) > 1:
        if parsed.output is not None or parsed.depfile is not None:
            return Passthrough("multiple sources with -o or -MF", tool)
        parts = []
        for index, _path, _lang in parsed.sources:
            others = {i for i, _, _ in parsed.sources if i != index}
            sub = parse_args([a for i, a in enumerate(parsed.args) if i not in others])
            assert not isinstance(sub, Passthrough)
            part = _invocation(tool, sub, cwd, env)
            if isinstance(part, Passthrough):
                return part
            parts.append(part)
        return Batch(parts)
    return _invocation(tool, parsed, cwd, env)


def tool_env(env: Mapping[str, str]) -> Mapping[str, str]:
    """The environment for every run of the tool but the compile itself: without the
    variables that make it append a depfile (a probe's preprocess would write there)."""
    if not any(name in env for name in _ENV_DEPFILE):
        return env
    return {k: v for k, v in env.items() if k not in _ENV_DEPFILE}


def _invocation(tool: str, p: Parsed, cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough:
    _index, source, lang = p.sources[0]
    full_env, env = env, tool_env(env)
    found = probe(tool, env)
    if lang not in CACHEABLE_LANGS and not (lang == "assembler" and found.as_depfile):
        return Passthrough(f"unsupported language {lang}", tool)
    if found.kind != "gcc" and (p.specs or p.exec_prefixes):
        return Passthrough("unsupported option " + ("-specs" if p.specs else "-B") + f" ({found.kind or 'unknown'})",
                           tool)
    stem_source = os.path.splitext(os.path.basename(source))[0]
    output = p.output if p.output is not None else stem_source + (".o" if p.mode == "-c" else ".s")
    if output == "-":
        return Passthrough("output to stdout", tool)
    if not_a_file(cwd, output):
        return Passthrough("output is not a regular file", tool)
    stem = os.path.splitext(output)[0]
    outputs = {"object": output}
    dep_mode, user_depfile = ("own" if lang != "assembler" else "none"), None
    if p.md or p.mmd:
        user_depfile = p.depfile if p.depfile is not None else stem + ".d"
        if not_a_file(cwd, user_depfile):  # -MF /dev/null (autoconf): nothing to restore, nothing to read
            dep_mode = "scan"
        else:
            outputs["depfile"] = user_depfile
            dep_mode = "scan" if p.mmd else "user-md"
    if p.coverage:
        outputs["gcno"] = stem + ".gcno"
    if p.split_dwarf and p.debug and p.mode == "-c":
        outputs["dwo"] = stem + ".dwo"
    if p.stack_usage:
        outputs["su"] = stem + ".su"
    if p.callgraph_info:
        outputs["ci"] = stem + ".ci"
    path_map = _path_map(p.prefix_maps)
    key_args = _key_args(p.args, path_map)
    env_depfile = _env_depfile(full_env) if not (p.md or p.mmd) and lang != "assembler" else None
    if env_depfile is not None:
        name, file, target = env_depfile
        outputs["envdeps"] = file
        # its rule names the object after the source (in the key) or the given target
        key_args.append(f"zccache:{name}={target}")
        dep_mode = "env" if name == "SUNPRO_DEPENDENCIES" else "scan"  # the first omits only the source
    if (p.md or p.mmd) and not p.dep_target_given:
        key_args.append("zccache:dep-target=" + output)  # the depfile names the object
    if p.profile_arcs or p.coverage or (p.split_dwarf and p.debug):
        # the object embeds its own (.gcda / .dwo) path
        key_args.append("zccache:object-path=" + os.path.normpath(os.path.join(cwd, output)))
    native = [a for a in p.args if a in _NATIVE]
    if native:  # the flags -march=native stands for on this machine, as the driver expands them
        key_args.append("zccache:native=" + native_flags(tool, native, env))
    extra = [f for f in env.get("ZCCACHE_EXTRAFILES", "").split(os.pathsep) if f]
    key_files = [os.path.normpath(os.path.join(cwd, f)) for f in [*p.read_files, *extra]]
    if p.profile_use is not None:
        key_files += profile_files(cwd, output, p.profile_use, p.profile_dir)
    hash_dir = env_flag(env, "ZCCACHE_HASHDIR", True)
    key_env = {k: env[k] for k in _KEY_ENV if k in env}
    driver = None
    if found.kind == "gcc":  # the programs and specs files its driver picks (gcc_driver.py)
        driver = driver_key(tool, p.driver_args, p.specs, lang, p.mode == "-c", cwd, env)
        if isinstance(driver, Passthrough):
            return Passthrough(driver.reason, tool)
        key_args.append("zccache:driver=" + driver)
    # kept for the same command (plans.py) unless it read more than still() checks
    kept = not native and p.profile_use is None
    if found.kind == "emscripten":  # its version is in -v (describe_tool); its settings here
        key_env.update({k: v for k, v in env.items() if k.startswith(_EMSCRIPTEN_ENV)})
        key_files += [*found.config_files, *([env["EM_CONFIG"]] if os.path.isabs(env.get("EM_CONFIG", "")) else [])]
    return Invocation(
        family=FAMILY,
        tool=tool,
        args=p.args,
        cwd=cwd,
        env=env,
        key_args=key_args,
        sources=[source],
        outputs=outputs,
        key_env=key_env,
        hash_cwd=(p.debug and hash_dir) or p.coverage or p.profile_arcs,
        time_macros_ok=bool(env.get("SOURCE_DATE_EPOCH")) and found.source_date_epoch,
        path_map=path_map,
        relocatable=frozenset({"depfile", "envdeps"} & set(outputs)) if path_map else frozenset(),
        key_files=key_files,
        asm_listed=found.as_depfile or p.mode == "-S",
        appended=frozenset({"envdeps"} & set(outputs)),
        can_preprocess=lang != "assembler",
        details=Details(parsed=p, lang=lang, source=source, dep_mode=dep_mode, user_depfile=user_depfile,
                        env_depfile=env_depfile, probe=found if kept else None, driver=driver),
    )


def _env_depfile(env: Mapping[str, str]) -> tuple[str, str, str] | None:
    """(variable, file, target) of the depfile the environment asks gcc for."""
    for name in _ENV_DEPFILE:
        value = env.get(name)
        if value:
            file, _, target = value.partition(" ")
            return name, file, target
    return None


def _read_text(path: str) -> str:
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "surrogateescape")


def _append_copy(written: str, target: str) -> bytes | None:
    """What the tool wrote into our copy of an appended output, added to the user's
    file as the tool would have; None when it wrote nothing."""
    try:
        with open(written, "rb") as f:
            data = f.read()
    except OSError:
        return None
    with open(target, "ab") as f:
        f.write(data)
    return data


def assembler_inputs(cwd: str, listed: list[str], asm_dirs: list[str], known: set[str]) -> tuple[list[str], list[str]]:
    """(read, absent) from GNU as's own dependency list: the files it read that the
    preprocessor did not (known), and the paths it would have taken instead had they
    existed. as looks a name up as given (.incbin) or in the working directory
    (.include) first, then in each -I directory in turn; it also lists the names of
    .file directives, which it does not open (those that are no file are left out)."""
    read: list[str] = []
    absent: list[str] = []
    dirs = [os.path.normpath(os.path.join(cwd, d)) for d in asm_dirs]
    for name in listed:
        full = os.path.normpath(os.path.join(cwd, name))
        if full in known or not os.path.isfile(full):
            continue
        read.append(name)
        for i, directory in enumerate(dirs):
            if not full.startswith(directory + os.sep):
                continue
            rel = full[len(directory) + 1:]
            for earlier in [cwd, *dirs[:i]]:
                candidate = os.path.normpath(os.path.join(earlier, rel))
                if not os.path.lexists(candidate):
                    absent.append(candidate)
    return list(dict.fromkeys(read)), list(dict.fromkeys(absent))


def parse_args(args: list[str]) -> Parsed | Passthrough:
    sources: list[tuple[int, str, str]] = []
    output = depfile = None
    mode = None
    md = mmd = dep_target = debug = split = coverage = arcs = stack = callgraph = False
    lang: str | None = None
    search: list[str] = []
    maps: list[tuple[str, str, str]] = []
    includes: list[str] = []
    include_pchs: list[str] = []
    xclang_arg: str | None = None
    wp_dep = explicit_dep = False
    profile_use: str | None = None
    profile_dir: str | None = None
    read_files: list[str] = []
    specs: list[str] = []
    exec_prefixes: list[str] = []
    driver_args: list[str] = []
    asm_dirs: list[str] = []
    others = 0
    i = 0
    while i < len(args):
        a = args[i]
        value = None
        opt = a
        if a in TAKES_VALUE:
            if i + 1 >= len(args):
                return Passthrough(f"missing value for {a}")
            value = args[i + 1]
        else:
            for prefix in ATTACHED:
                if a.startswith(prefix) and len(a) > len(prefix) and not is_longer_option(a):
                    opt, value = prefix, a[len(prefix):]
                    break
        if opt in PASSTHROUGH_EXACT or a in PASSTHROUGH_EXACT or a.startswith(PASSTHROUGH_PREFIXES):
            return Passthrough(_reason(opt))
        if a == "-Xclang":
            if xclang_arg is not None:
                (include_pchs if xclang_arg == "-include-pch" else includes).append(value)
                xclang_arg = None
            elif value in ("-include-pch", "-include"):
                xclang_arg = value
            elif value not in _XCLANG_OK:
                return Passthrough("unsupported option -Xclang " + value.split("=")[0])
        elif xclang_arg is not None:
            return Passthrough("-Xclang " + xclang_arg + " without its value")
        if a.startswith("-Wp,"):
            parts = a[4:].split(",")
            if parts[0] in ("-MD", "-MMD") and len(parts) == 2 and parts[1]:
                if wp_dep:
                    return Passthrough("-Wp dependency output given twice")
                wp_dep = True
                md, mmd = md or parts[0] == "-MD", mmd or parts[0] == "-MMD"
                depfile = parts[1]
            elif any(part.startswith(("-M", "-d")) for part in parts):
                return Passthrough("-Wp dependency output")
        if a.startswith(PROFILE_USE):
            option, eq, path = a.partition("=")
            if option not in PROFILE_USE:
                return Passthrough(_reason(a))
            profile_use = path if eq else (profile_use or "")
        elif a.startswith(PROFILE_GENERATE):
            arcs = True
        elif a.startswith("-fprofile-dir="):
            profile_dir = a.partition("=")[2]
        elif a.startswith(KEY_FILE_OPTIONS):
            read_files.append(a.partition("=")[2])
        if a.startswith("-Wa,"):
            parts = a[4:].split(",")
            if any(x.startswith(("-a", "--MD", "-M")) for x in parts):
                return Passthrough("assembler listing output")
            for j, part in enumerate(parts):
                if part == "-I" and j + 1 < len(parts):
                    asm_dirs.append(parts[j + 1])
                elif part.startswith("-I") and len(part) > 2:
                    asm_dirs.append(part[2:])
        if opt == "-B":
            exec_prefixes.append(value)
            driver_args.append("-B" + value)
        elif a == "-specs":
            specs.append(value)
        elif a.startswith("-specs="):
            specs.append(a[len("-specs="):])
        elif a.startswith(("-m", "--sysroot=")) and value is None:
            driver_args.append(a)
        elif a == "--sysroot":
            driver_args.append("--sysroot=" + value)
        if a.startswith("-d") and opt == a and value is None:
            return Passthrough("-d debug dump")
        if opt.startswith(SEARCH_PREFIXES) and opt != "-x":
            search.extend([a, value] if value is not None and opt == a else [a])
        level = _DEBUG_LEVEL.match(a)
        if opt == "-o":
            output = value
        elif opt == "-x":
            lang = None if value == "none" else value
        elif opt == "-MF":
            depfile = value
            explicit_dep = True
        elif a == "-include":
            includes.append(value)
        elif a == "-include-pch":
            include_pchs.append(value)
        elif opt in ("-MT", "-MQ"):
            dep_target = True
        elif a in ("-c", "-S"):
            if mode is not None and mode != a:
                return Passthrough("both -c and -S")
            mode = a
        elif a == "-MD":
            md = explicit_dep = True
        elif a == "-MMD":
            mmd = explicit_dep = True
        elif a == "-gsplit-dwarf":
            split = True
        elif level:
            debug = level.group(2) != "0"
        elif a in ("--coverage", "-ftest-coverage"):
            coverage = True
            arcs = True
        elif a == "-fprofile-arcs":
            arcs = True
        elif a.startswith(("-ffile-prefix-map=", "-fdebug-prefix-map=", "-fmacro-prefix-map=")):
            kind, _, spec = a[2:].partition("=")
            old, eq, new = spec.partition("=")
            if eq:
                maps.append((kind, old, new))
        elif a == "-fstack-usage":
            stack = True
        elif a == "-fcallgraph-info" or a.startswith("-fcallgraph-info="):
            callgraph = True
        elif a == "-":
            return Passthrough("input from stdin")
        elif not a.startswith("-") or a == "":
            if value is None:
                ext = os.path.splitext(a)[1]
                src_lang = lang or LANG_OF_EXT.get(ext)
                if src_lang is None:
                    others += 1
                else:
                    sources.append((i, a, src_lang))
        if value is not None and opt == a:
            i += 2
        else:
            i += 1
    if xclang_arg is not None:
        return Passthrough("-Xclang " + xclang_arg + " without its value")
    if wp_dep and explicit_dep:
        return Passthrough("-Wp,-MD with -MD, -MMD or -MF")
    if mode is None:
        return Passthrough("not compiling (linking or other)")
    if others:
        return Passthrough("non-source input")
    if not sources:
        return Passthrough("no source file")
    return Parsed(args=list(args), sources=sources, output=output, mode=mode, depfile=depfile, md=md, mmd=mmd,
                  dep_target_given=dep_target, debug=debug, split_dwarf=split, coverage=coverage,
                  profile_arcs=arcs, stack_usage=stack, search_args=search, prefix_maps=maps, includes=includes,
                  include_pchs=include_pchs, profile_use=profile_use, profile_dir=profile_dir,
                  read_files=read_files, specs=specs, exec_prefixes=exec_prefixes, driver_args=driver_args,
                  asm_dirs=asm_dirs, callgraph_info=callgraph)


def _reason(arg: str) -> str:
    known = {"-E": "preprocess only (-E)", "-M": "-M without -MD", "-MM": "-MM without -MMD",
             "-v": "verbose (-v)", "--version": "--version", "--help": "--help"}
    if arg in known:
        return known[arg]
    return f"unsupported option {arg.split('=')[0]}"


def _path_map(maps: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """The prefix maps under which gcc rewrites *every* path it writes: -ffile-prefix-map,
    or -fdebug-prefix-map and -fmacro-prefix-map with the same pair. A debug map alone
    leaves __FILE__ naming the real path, so it does not qualify."""
    debug = {(o, n) for k, o, n in maps if k == "debug-prefix-map"}
    macro = {(o, n) for k, o, n in maps if k == "macro-prefix-map"}
    pairs = [(o, n) for k, o, n in maps if k == "file-prefix-map"] + sorted(debug & macro)
    out: list[tuple[str, str]] = []
    for old, new in pairs:
        old = os.path.normpath(old)
        if os.path.isabs(old) and old != "/" and not any(c.isspace() or c in "\0\\:" for c in old + new):
            out.append((old, new))
    return sorted(set(out), key=lambda pair: -len(pair[0]))


def _logical(path: str, path_map: list[tuple[str, str]]) -> str:
    for real, new in path_map:
        if path == real or path.startswith(real + "/"):
            return f"\0{new}\0{path[len(real):]}"
    return path


def _key_args(args: list[str], path_map: list[tuple[str, str]] | None = None) -> list[str]:
    """Arguments minus the names of the outputs (the object does not depend on
    them), with mapped path prefixes in their logical form."""
    path_map = path_map or []
    out: list[str] = []
    skip = False
    value_of = None
    for a in args:
        if skip:
            skip = False
            continue
        if value_of is not None:
            out.append(_logical(a, path_map))
            value_of = None
            continue
        if a in ("-o", "-MF"):
            skip = True
            continue
        if (a.startswith("-o") and not a.startswith("-o-") and len(a) > 2) or (a.startswith("-MF") and len(a) > 3):
            continue
        if a.startswith(("-Wp,-MD,", "-Wp,-MMD,")):
            a = a[: a.index(",", 4)]  # the depfile's name is an output's
        if path_map:
            if a in PATH_OPTIONS:
                value_of = a
            elif a.startswith(MAP_OPTIONS):
                option, _, spec = a.partition("=")
                old, _, new = spec.partition("=")
                a = f"{option}={_logical(os.path.normpath(old), path_map)}={new}"
            elif a.startswith(PATH_OPTIONS):
                option = next(o for o in PATH_OPTIONS if a.startswith(o))
                a = option + _logical(a[len(option):], path_map)
            elif not a.startswith("-"):
                a = _logical(a, path_map)
        out.append(a)
    return out


def _without_outputs(args: list[str]) -> list[str]:
    """Arguments for a preprocessing-only run: no object, no depfile, no compile."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-S", "-MD", "-MMD", "-MP", "--coverage", "-ftest-coverage", "-fstack-usage", "-gsplit-dwarf"):
            continue
        if a.startswith("-fcallgraph-info"):
            continue
        if (a.startswith("-o") and len(a) > 2) or (a[:3] in ("-MF", "-MT", "-MQ") and len(a) > 3):
            continue
        if a.startswith(("-Wp,-MD,", "-Wp,-MMD,")):
            continue
        out.append(a)
    return out


TEMP_LOGICAL_ROOT = "/zccache-tmp"


def temp_prefix_maps(args: list[str], cwd: str, root: str) -> list[str]:
    """-ffile-prefix-map options for the randomly named temporary directories a
    packaging tool builds in (pip's pip-install-*/<name>_<hex>, pip-build-env-*,
    python -m build's build-via-sdist-*, meson-python's tmp*), all below root.

    With them gcc writes the same bytes whatever the random names are, so a build
    in tomorrow's temporary directory hits today's result, and the hit is exactly
    what the compiler produces for this command line."""
    paths = [cwd]
    pending = False
    for a in args:
        if pending:
            paths.append(a)
            pending = False
        elif a in PATH_OPTIONS:
            pending = True
        elif a.startswith(PATH_OPTIONS):
            paths.append(a[len(next(o for o in PATH_OPTIONS if a.startswith(o))):])
        elif not a.startswith("-"):
            paths.append(a)
    roots: dict[str, str] = {}
    for path in paths:
        full = os.path.normpath(os.path.join(cwd, path))
        if not full.startswith(root + os.sep):
            continue
        parts = full[len(root) + 1 :].split(os.sep)
        first, random_first = stable_name(parts[0])
        if not random_first:
            continue  # a directory someone named: not a tool's temporary one
        real = os.path.join(root, parts[0])
        logical = f"{TEMP_LOGICAL_ROOT}/{first}"
        if len(parts) >= 2:  # a random project directory one level down (pip's <name>_<hex>)
            second, random_name = stable_name(parts[1])
            if random_name:
                real = os.path.join(real, parts[1])
                logical = f"{logical}/{second}"
        roots[real] = logical
    if len(set(roots.values())) != len(roots):
        return []  # two random directories would share a logical name: leave the paths alone
    return [f"-ffile-prefix-map={real}={logical}" for real, logical in sorted(roots.items())]


def parse_search_list(verbose: str, args: list[str]) -> tuple[list[str], list[str]]:
    """(search order, system part) from ``gcc -E -v`` output. Directories gcc ignored
    for not existing come first: creating one later could shadow anything."""
    missing: list[str] = []
    quote: list[str] = []
    bracket: list[str] = []
    section = None
    for line in verbose.splitlines():
        if line.startswith("ignoring nonexistent directory "):
            missing.append(line.split(" ", 3)[3].strip().strip('"'))
        elif line.startswith('#include "..." search starts here'):
            section = quote
        elif line.startswith("#include <...> search starts here"):
            section = bracket
        elif line.startswith("End of search list"):
            section = None
        elif section is not None and line.startswith(" "):
            section.append(line.strip().removesuffix(" (framework directory)"))
    user = set()
    for i, a in enumerate(args):
        for opt in ("-I", "-iquote"):
            if a == opt and i + 1 < len(args):
                user.add(os.path.normpath(args[i + 1]))
            elif a.startswith(opt) and len(a) > len(opt) and not a.startswith(("-include", "-iquote" if opt == "-I" else "\0")):
                user.add(os.path.normpath(a[len(opt):]))
    system = [d for d in bracket if os.path.normpath(d) not in user]
    return [*missing, *quote, *bracket], system
