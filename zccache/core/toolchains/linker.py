"""Links: the gcc/clang driver run without -c (``gcc a.o -lm -o app``, ``-shared``),
and ``ld`` itself.

A link reads far more than its command line names: the startup files and libraries
the driver adds, what each ``-l`` finds on the library path, linker scripts (libc.so
is one), version scripts, the shared libraries those need. The linker knows them all
and says so: GNU ld (2.35+) and lld write them as a make rule with
``--dependency-file``, the link's ``-MD``. So a link is cached as a compile is: the
direct key is the tool, its arguments (output names out) and environment; the
manifest records every file the linker read, by content, as it does headers; and each
``-l`` is probed on the search path before the place it was found, so that a library
appearing earlier misses, as a shadowing header does.

What would make a link write a file we do not name, read one the linker does not
report, or differ from run to run is passed through with its reason.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

from zccache.core.config import env_flag
from zccache.core.hookspecs import hookimpl
from zccache.core.invocation import Invocation, Memo, Passthrough, RunResult, SearchPath
from zccache.core.manifest import FileHashes
from zccache.core.process import run_tool, scratch_dir
from zccache.core.toolchains import gcc_options as options
from zccache.core.toolchains.cmdline import expand_response_files, not_a_file, parse_depfile
from zccache.core.toolchains.compiler_probe import PROBE_SECONDS, known_kind, probe
from zccache.core.toolchains.tool_memo import ToolMemo

NAME = "link"
_LD = re.compile(r"^(?:.*-)?ld(?:\.bfd|\.lld)?$")
# Driver arguments that make the command something other than a link: gcc's family
# answers for those.
_NOT_LINK = {"-c", "-S", "-E", "-M", "-MM", "-fsyntax-only", "-###", "-v", "--version", "--help", "-dumpversion",
             "-dumpfullversion", "-dumpmachine", "-dumpspecs", "-shared-libgcc-only"}
_NOT_LINK_PREFIXES = ("-print-", "--print-", "-dump", "--help=")
# Driver arguments that read files the linker does not report, or change the programs run.
_DRIVER_PASSTHROUGH = ("-B", "-specs", "--specs", "-save-temps", "-fprofile-use", "-fprofile-instr-use",
                       "-fprofile-sample-use", "-fauto-profile", "-fplugin", "-wrapper", "-fdump-", "--sysroot",
                       "-gsplit-dwarf")  # (an LTO link writes .dwo files of its own with that)
# Linker options whose value is the next word when not attached.
_LD_TAKES_VALUE = {"-o", "--output", "-l", "--library", "-L", "--library-path", "-T", "--script", "-Map", "-m",
                   "-e", "--entry", "-u", "--undefined", "-z", "-soname", "-h", "-rpath", "-rpath-link", "-y",
                   "-dynamic-linker", "-I", "--version-script", "--dynamic-list", "-A", "-a", "-F", "-f",
                   "--out-implib", "--plugin", "-plugin", "-plugin-opt", "--plugin-opt", "-R", "--just-symbols",
                   "--defsym", "-Y", "--hash-style", "--build-id", "-G", "--sort-section", "--wrap", "--exclude-libs",
                   "--section-start", "-Ttext", "-Tdata", "-Tbss", "--sysroot", "--dependency-file", "--image-base"}
_LINK_INPUT = re.compile(r"\.(?:o|obj|a|lo|la|so(?:\.\d+)*|lds?|ld\.script)$")
_STATIC = {"-Bstatic", "-static", "-dn", "-non_shared", "--static"}
_DYNAMIC = {"-Bdynamic", "-dy", "-call_shared"}
_LD_PASSTHROUGH_PREFIXES = ("@", "--dependency-file", "-plugin", "--plugin", "--insert-timestamp",
                            "--build-id=uuid", "-o", "--output", "--sysroot")
# Emscripten links (emcc/em++ without -c): what reads or writes files besides the
# objects, libraries and the outputs -o names, or changes which outputs there are.
_EMCC_PASSTHROUGH = ("--preload-file", "--embed-file", "--js-library", "--pre-js", "--post-js", "--extern-pre-js",
                     "--extern-post-js", "--shell-file", "-gsource-map", "--source-map-base", "--emit-symbol-map",
                     "-pthread", "-gseparate-dwarf", "--closure", "--emrun", "--cpuprofiler", "--memoryprofiler",
                     "--threadprofiler", "--proxy-to-worker", "--use-preload-plugins", "--js-transform", "--emit-tsd",
                     "--embind-emit-tsd", "--post-link", "-r")
_EMCC_SETTINGS_PASSTHROUGH = ("SINGLE_FILE", "WASM", "USE_PTHREADS", "PROXY_TO_PTHREAD", "MAIN_MODULE", "SIDE_MODULE",
                              "SPLIT_MODULE", "SEPARATE_DWARF", "STANDALONE_WASM", "LZ4", "PROXY_TO_WORKER",
                              "WASM_BIGINT_JS", "BUILD_AS_WORKER", "EMIT_PRODUCERS_SECTION")
# -o's extension -> the other files an Emscripten link writes beside it (by stem)
_EMCC_OUTPUTS = {".js": (".wasm",), ".mjs": (".wasm",), ".html": (".js", ".wasm"), ".wasm": ()}
_EMCC_ENV = ("EM_", "EMCC_", "EMSDK")
# Environment the driver or the linker reads.
_KEY_ENV = ("LIBRARY_PATH", "GCC_EXEC_PREFIX", "COMPILER_PATH", "LD_RUN_PATH", "LD_LIBRARY_PATH", "LANG",
            "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "LANGUAGE", "CCC_OVERRIDE_OPTIONS")


@dataclass
class LinkLine:
    """What a link's command line says."""

    output: str
    side_outputs: dict[str, str] = field(default_factory=dict)  # role -> path (-Map=)
    libs: list[tuple[str, bool]] = field(default_factory=list)  # (-l name, static) in order
    lib_dirs: list[str] = field(default_factory=list)  # -L, in order
    driver: bool = True  # the gcc/clang driver (False: ld run directly)
    # every input is named like an object or a library (only then is a tool of
    # unknown name asked whether it is a compiler driver)
    plain_inputs: bool = True
    emscripten: bool = False  # emcc/em++: no dependency file; inputs from the command line
    inputs: list[str] = field(default_factory=list)  # the positional inputs, as given


@dataclass(frozen=True)
class LinkerProbe:
    """The linker behind a tool, and what it reads without being told."""

    version: bytes  # what the linker (and the driver) say of themselves: part of the identity
    dependency_file: bool  # the linker writes --dependency-file
    programs: tuple[str, ...]  # collect2, ld, lto-wrapper, the LTO plugin ...
    lib_dirs: tuple[str, ...]  # the driver's and the linker's own library search dirs, in order


_probes: ToolMemo[LinkerProbe] = ToolMemo("linker", LinkerProbe)


def linker_probe(tool: str, env: Mapping[str, str], driver: bool) -> LinkerProbe:
    """Asked once per (tool, settled stat signature) in this process."""
    return _probes.get(tool, lambda: _ask(tool, env, driver), LinkerProbe(b"", False, (), ()), extra=driver,
                       env=env)


def _ask(tool: str, env: Mapping[str, str], driver: bool) -> LinkerProbe:
    cwd = os.getcwd() if os.path.isdir(os.getcwd()) else "/"
    path = env.get("PATH", os.defpath)
    if driver and probe(tool, env).kind == "emscripten":
        return _ask_emscripten(tool, cwd, env)

    def ask(*args: str) -> str:
        rc, out, _ = run_tool([tool, *args], cwd, env, timeout=PROBE_SECONDS)
        return out.decode("utf-8", "surrogateescape").strip() if rc == 0 else ""

    def program(name: str) -> str | None:
        found = name if os.path.isabs(name) else shutil.which(name, path=path)
        return os.path.realpath(found) if found and os.path.exists(found) else None

    lib_dirs: list[str] = []
    programs: list[str] = []
    if driver:
        ld = program(ask("-print-prog-name=ld") or "ld")
        for line in ask("-print-search-dirs").splitlines():
            if line.startswith("libraries: "):
                lib_dirs = [os.path.normpath(d) for d in line.split(" ", 1)[1].lstrip("=").split(":") if d]
        for name in ("collect2", "lto-wrapper", "lto1"):
            found = ask(f"-print-prog-name={name}")
            if found and os.path.isabs(found) and os.path.exists(found):
                programs.append(os.path.realpath(found))
        plugin = ask("-print-file-name=liblto_plugin.so")
        if os.path.isabs(plugin) and os.path.exists(plugin):
            programs.append(os.path.realpath(plugin))
    else:
        ld = os.path.realpath(tool)
    if ld is None:
        return LinkerProbe(b"", False, (), ())
    rc, help_text, _ = run_tool([ld, "--help"], cwd, env, timeout=PROBE_SECONDS)
    rc_v, version, _ = run_tool([ld, "--version"], cwd, env, timeout=PROBE_SECONDS)
    rc_s, verbose, _ = run_tool([ld, "--verbose"], cwd, env, timeout=PROBE_SECONDS)
    for d in re.findall(rb'SEARCH_DIR\("=?([^"]+)"\)', verbose if rc_s == 0 else b""):
        lib_dirs.append(os.path.normpath(d.decode("utf-8", "surrogateescape")))
    programs.append(ld)
    return LinkerProbe(version=b"%d\0%s" % (rc_v, version), dependency_file=rc == 0 and b"--dependency-file" in help_text,
                       programs=tuple(dict.fromkeys(programs)), lib_dirs=tuple(dict.fromkeys(lib_dirs)))


def _ask_emscripten(tool: str, cwd: str, env: Mapping[str, str]) -> LinkerProbe:
    """emcc links with wasm-ld, then optimises with binaryen's wasm-opt and may run
    node: where they are is in its configuration, which em-config beside it reads."""
    em_config = os.path.join(os.path.dirname(tool), "em-config")
    programs: list[str] = []
    if os.access(em_config, os.X_OK):
        values = {}
        for name in ("LLVM_ROOT", "BINARYEN_ROOT", "NODE_JS"):
            rc, out, _ = run_tool([em_config, name], cwd, env, timeout=PROBE_SECONDS)
            values[name] = out.decode("utf-8", "surrogateescape").strip() if rc == 0 else ""
        import glob

        programs += sorted(glob.glob(os.path.join(values["LLVM_ROOT"], "wasm-ld*"))) if values["LLVM_ROOT"] else []
        if values["BINARYEN_ROOT"]:
            programs.append(os.path.join(values["BINARYEN_ROOT"], "bin", "wasm-opt"))
        programs += re.findall(r"/[^'\"\],\s]+", values["NODE_JS"])
    found = [os.path.realpath(p) for p in programs if os.path.exists(p)]
    return LinkerProbe(version=b"", dependency_file=False, programs=tuple(dict.fromkeys(found)), lib_dirs=())


class LinkFamily:
    """Links through gcc, clang or emcc, and ld itself: the linker lists what it read
    (--dependency-file), which becomes the manifest, and every -l is probed on the
    search path before where it was found."""

    name = NAME
    action = "link"

    def describe_tool(self, tool: str, env: Mapping[str, str]) -> bytes:
        driver = not _LD.match(os.path.basename(tool))
        found = linker_probe(tool, env, driver)
        if not driver:
            return found.version
        rc, out, err = run_tool([tool, "-v"], os.getcwd(), env)
        return b"%d\0%s\0%s\0%s\0%s" % (rc, out, err, probe(tool, env).kind.encode(), found.version)

    def tool_programs(self, tool: str, env: Mapping[str, str]) -> list[str]:
        driver = not _LD.match(os.path.basename(tool))
        return [*(probe(tool, env).programs if driver else ()), *linker_probe(tool, env, driver).programs]

    def execute(self, inv: Invocation) -> RunResult:
        """The link, with the linker told to list what it read. Its temporary files
        (LTO's partitions) go to a directory of ours, whose entries are not inputs."""
        line: LinkLine = inv.details
        if line.emscripten:  # every input is in the key already
            rc, out, err = run_tool(inv.command, inv.cwd, inv.env, inv.umask)
            return RunResult(rc, out, err, [])
        tmpdir = scratch_dir(inv.env, "zccache-link-")
        try:
            depfile = os.path.join(tmpdir, "link.d")
            option = "--dependency-file=" + depfile
            command = [*inv.command, *(["-Xlinker", option] if line.driver else [option])]
            rc, out, err = run_tool(command, inv.cwd, {**inv.env, "TMPDIR": tmpdir}, inv.umask)
            if rc != 0:
                return RunResult(rc, out, err)
            try:
                with open(depfile, "rb") as f:
                    text = f.read().decode("utf-8", "surrogateescape")
            except OSError:
                return RunResult(rc, out, err, None, "linker wrote no dependency file")
            private = os.path.realpath(tmpdir) + os.sep
            inputs = [p for p in parse_depfile(text)
                      if not os.path.realpath(os.path.join(inv.cwd, p)).startswith(private)]
            return RunResult(rc, out, err, inputs)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def search_dirs(self, inv: Invocation, memo: Memo) -> SearchPath:
        """Where -l looks: -L first, then LIBRARY_PATH (the driver's), then the
        driver's and the linker's own directories."""
        line: LinkLine = inv.details
        found = linker_probe(inv.tool, inv.env, line.driver)
        env_dirs = [d for d in inv.env.get("LIBRARY_PATH", "").split(os.pathsep) if d] if line.driver else []
        order = [os.path.normpath(d) for d in [*line.lib_dirs, *env_dirs]]  # as given: manifest.Places
        return SearchPath(order=list(dict.fromkeys([*order, *found.lib_dirs])), system=[])

    def unlisted_inputs(self, inv: Invocation, inputs: list[str], dirs: SearchPath,
                        hashes: FileHashes) -> tuple[list[str], list[str]]:
        """Every place an -l would have found its library before the one it found:
        one appearing there later changes the link."""
        line: LinkLine = inv.details
        absent: list[str] = []
        present: list[str] = []  # what -l found, for the linkers that list nothing themselves
        for name, static in line.libs:
            if name.startswith(":"):
                candidates = [name[1:]]
            else:
                candidates = [f"lib{name}.a"] if static else [f"lib{name}.so", f"lib{name}.a"]
            for d in dirs.order:
                paths = [os.path.join(d, c) for c in candidates]
                first = next((j for j, p in enumerate(paths) if os.path.exists(os.path.join(inv.cwd, p))), None)
                absent.extend(paths[:first])  # in the dir it was found in: the kinds ld prefers
                if first is not None:
                    present.append(paths[first])
                    break
        return (present if line.emscripten else []), list(dict.fromkeys(absent))

    def preprocess(self, inv: Invocation) -> RunResult:
        return RunResult(1, b"", b"a link has no preprocessor")


FAMILY = LinkFamily()


@hookimpl(tryfirst=True)
def zccache_classify(argv: list[str], cwd: str, env: Mapping[str, str]):
    """Links run by the gcc/clang driver (known by name, or asked as gcc's family
    asks) and by ld; None for everything else, which the compiler families see."""
    tool = argv[0]
    name = os.path.basename(tool)
    if _LD.match(name):
        found_ld = classify_ld(argv, cwd, env)
        if not env_flag(env, "ZCCACHE_LINKS", True) and isinstance(found_ld, Invocation):
            return Passthrough("link caching off (ZCCACHE_LINKS=0)", tool, "link")
        return found_ld
    found = classify_driver(argv, cwd, env)
    if found is None:
        return None
    if isinstance(found, Passthrough):
        # counted as ours only for a tool known to be a compiler: asking an unknown
        # tool what it is costs a run, not worth it for a command we would not cache
        return found if options.COMPILER_NAME.match(name) or known_kind(tool, env) in options.KINDS else None
    if not options.COMPILER_NAME.match(name) and not known_kind(tool, env) and not found.details.plain_inputs:
        return None
    kind = probe(tool, env).kind
    if kind not in options.KINDS:
        return None
    if not env_flag(env, "ZCCACHE_LINKS", True):
        return Passthrough("link caching off (ZCCACHE_LINKS=0)", tool, "link")
    if kind == "emscripten":
        return _emscripten(found)
    if kind == "clang" and any(a.startswith("-flto") and a != "-fno-lto" for a in found.key_args):
        return Passthrough("clang LTO link", tool, "link")
    return _checked(found)


def _emscripten(inv: Invocation) -> Invocation | Passthrough:
    """An emcc/em++ link: wasm-ld lists nothing it read, so the key holds every input
    the command line names (objects and archives by content, what -l finds), the
    Emscripten toolchain (identity) and its configuration; what would make it read or
    write anything else passes through."""
    line: LinkLine = inv.details
    for i, a in enumerate(inv.key_args):
        if a.startswith(_EMCC_PASSTHROUGH) and (a in _EMCC_PASSTHROUGH or a.startswith(tuple(p + "=" for p in _EMCC_PASSTHROUGH))):
            return Passthrough(f"unsupported emscripten link option {a.split('=')[0]}", inv.tool, "link")
        setting = a[2:] if a.startswith("-s") and len(a) > 2 else (inv.key_args[i + 1] if a == "-s" and i + 1 < len(inv.key_args) else "")
        name, _, value = setting.partition("=")
        if name in _EMCC_SETTINGS_PASSTHROUGH or value.startswith("@"):
            return Passthrough(f"unsupported emscripten setting {name}", inv.tool, "link")
    stem, ext = os.path.splitext(line.output)
    if ext not in _EMCC_OUTPUTS:
        return Passthrough(f"emscripten link to {ext or 'no extension'}", inv.tool, "link")
    extra = {suffix.lstrip("."): stem + suffix for suffix in _EMCC_OUTPUTS[ext]}
    for path in extra.values():
        if not_a_file(inv.cwd, path):
            return Passthrough("link output is not a regular file", inv.tool, "link")
    for path in line.inputs:
        if not os.path.isfile(os.path.join(inv.cwd, path)):
            return Passthrough("link input is not a file", inv.tool, "link")
    line.emscripten = True
    inv.outputs = {**inv.outputs, **extra}
    inv.sources = list(line.inputs)
    inv.key_env = {**inv.key_env, **{k: v for k, v in inv.env.items() if k.startswith(_EMCC_ENV)}}
    config = probe(inv.tool, inv.env).config_files
    inv.key_files = [*config, *([inv.env["EM_CONFIG"]] if os.path.isabs(inv.env.get("EM_CONFIG", "")) else [])]
    return inv


def _checked(inv: Invocation) -> Invocation | Passthrough:
    line: LinkLine = inv.details
    if not linker_probe(inv.tool, inv.env, line.driver).dependency_file:
        return Passthrough("linker without --dependency-file", inv.tool, "link")
    return inv


def classify_driver(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough | None:
    """A link by the driver; None when the command is not a link (a compile, -E,
    --version ...). The driver's -l, -L and -static join the linker's own words,
    in order, since -Wl,-Bstatic applies to the -l after it."""
    tool = argv[0]
    try:
        args = expand_response_files(argv[1:], cwd)
    except OSError:
        return None
    line = LinkLine(output="a.out")
    words: list[str] = []
    inputs = 0
    reason = ""
    i = 0
    while i < len(args):
        a = args[i]
        value = None
        opt = a
        if a in options.TAKES_VALUE:
            if i + 1 >= len(args):
                return None
            value = args[i + 1]
        else:
            for prefix in options.ATTACHED:
                if a.startswith(prefix) and len(a) > len(prefix) and not options.is_longer_option(a):
                    opt, value = prefix, a[len(prefix):]
                    break
        if a in _NOT_LINK or a.startswith(_NOT_LINK_PREFIXES):
            return None
        if not reason:
            if opt.startswith(_DRIVER_PASSTHROUGH):
                reason = f"unsupported link option {opt.split('=')[0]}"
            elif a.startswith("-fuse-ld=") and a != "-fuse-ld=bfd":
                reason = f"linker {a}"
            elif a == "-" or (opt == "-x" and value != "none"):
                reason = "compile and link"
        if opt == "-o":
            line.output = value or ""
        elif opt in ("-l", "-L"):
            words.append(opt + (value or ""))
        elif a in ("-static", "-static-pie"):
            words.append("-static")
        elif a.startswith("-Wl,"):
            words.extend(a[4:].split(","))
        elif a == "-Xlinker":
            words.append(value or "")
        elif not a.startswith("-") and value is None:
            inputs += 1
            line.inputs.append(a)
            if os.path.splitext(a)[1] in options.LANG_OF_EXT:
                reason = reason or "compile and link"
            elif not _LINK_INPUT.search(a):
                line.plain_inputs = False
        i += 2 if value is not None and opt == a else 1
    if not inputs and not any(w.startswith("-l") for w in words):
        return None
    if reason:
        return Passthrough(reason, tool, "link")
    why = _linker_words(words, line)
    if why:
        return Passthrough(why, tool, "link")
    basedir = env.get("ZCCACHE_BASEDIR")
    run_args = list(argv[1:])  # response files stay files: a long link line may not fit otherwise
    if basedir:
        args = run_args = options.rewrite_basedir(args, os.path.normpath(os.path.abspath(basedir)), cwd)
    return _invocation(tool, args, cwd, env, line, run_args)


def classify_ld(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough:
    tool = argv[0]
    args = list(argv[1:])
    if any(a in ("-v", "--version", "-V", "--help") for a in args):
        return Passthrough("not linking", tool, "link")
    line = LinkLine(output="a.out", driver=False)
    words: list[str] = []
    i = 0
    while i < len(args):  # -o is ld's own here, not a word of the linker line checks
        a = args[i]
        if a in ("-o", "--output"):
            if i + 1 >= len(args):
                return Passthrough("missing value for -o", tool, "link")
            line.output = args[i + 1]
            i += 2
            continue
        if a.startswith("--output="):
            line.output = a.partition("=")[2]
        elif a.startswith("-o") and len(a) > 2:
            line.output = a[2:]
        else:
            words.append(a)
        i += 1
    why = _linker_words(words, line)
    if why:
        return Passthrough(why, tool, "link")
    found = _invocation(tool, args, cwd, env, line)
    return _checked(found) if isinstance(found, Invocation) else found


def _linker_words(words: list[str], line: LinkLine) -> str:
    """Read the linker's own options into line; the reason to pass through, or ''."""
    static = False
    i = 0
    while i < len(words):
        w = words[i]
        value = words[i + 1] if w in _LD_TAKES_VALUE and i + 1 < len(words) else None
        if w.startswith(_LD_PASSTHROUGH_PREFIXES) or (w == "--build-id" and value == "uuid"):
            return f"unsupported linker option {w.split('=')[0]}"
        if w in _STATIC:
            static = True
        elif w in _DYNAMIC:
            static = False
        elif w in ("-l", "--library") and value is not None:
            line.libs.append((value, static))
        elif w.startswith("--library="):
            line.libs.append((w.partition("=")[2], static))
        elif w.startswith("-l") and len(w) > 2:
            line.libs.append((w[2:], static))
        elif w in ("-L", "--library-path") and value is not None:
            line.lib_dirs.append(value)
        elif w.startswith("--library-path="):
            line.lib_dirs.append(w.partition("=")[2])
        elif w.startswith("-L") and len(w) > 2:
            line.lib_dirs.append(w[2:])
        elif w in ("-Map", "--Map") and value is not None:
            line.side_outputs["map"] = value
        elif w.startswith(("-Map=", "--Map=")):
            line.side_outputs["map"] = w.partition("=")[2]
        elif w == "--out-implib" and value is not None:
            line.side_outputs["implib"] = value
        elif w.startswith("--out-implib="):
            line.side_outputs["implib"] = w.partition("=")[2]
        i += 2 if value is not None else 1
    return ""


def _invocation(tool: str, args: list[str], cwd: str, env: Mapping[str, str], line: LinkLine,
                run_args: list[str] | None = None) -> Invocation | Passthrough:
    """args: the command line with response files expanded (the key); run_args:
    what the tool is run with (by default the same)."""
    outputs = {"output": line.output, **line.side_outputs}
    for path in outputs.values():
        if not path or path == "-" or not_a_file(cwd, path):
            return Passthrough("link output is not a regular file", tool, "link")
    if len(set(outputs.values())) != len(outputs):
        return Passthrough("link outputs overlap", tool, "link")
    # The output's name stays in the key: with a version script and no -soname, ld
    # writes it into the version definitions; a map file names it too, and the
    # inputs as given, relative to the working directory.
    side = len(outputs) > 1
    key_args = list(args)
    return Invocation(
        family=FAMILY,
        tool=tool,
        args=list(args if run_args is None else run_args),
        cwd=cwd,
        env=env,
        key_args=key_args,
        # The objects and archives named (the linker's list has them too): as a
        # compile's source, each is checked for a write in the run's own clock tick.
        sources=[p for p in line.inputs if os.path.isfile(os.path.join(cwd, p))],
        outputs=outputs,
        key_env={k: env[k] for k in _KEY_ENV if k in env},
        hash_cwd=side,
        can_preprocess=False,
        time_macros_ok=True,
        text_inputs=False,
        details=line,
    )
