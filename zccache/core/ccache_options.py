"""ccache's options, with ccache's meanings: ``zccache -M 20 -F 0 -s`` does what
``ccache -M 20 -F 0 -s`` does.

Every option of ccache 4.x's ``--help`` is in OPTIONS: run as ccache runs it, or
refused with one line that says what to use instead. As in ccache, the options that
set how the others run (``-d``, ``--config-path``, ``-v``, ``--format``,
``--dry-run``, ``--threads``) are taken first, then the rest in the order given.
docs/ccache-options.md is this table for people; a test holds it complete against
ccache's own help text.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from zccache.core import control

Command = Callable[[list[str]], int]  # runs a zccache sub-command (cli._command)


@dataclass
class State:
    command: Command
    verbose: int = 0
    format: str = "tab"
    dry_run: bool = False
    threads: int = 0  # --threads: 0 is every core


@dataclass(frozen=True)
class Option:
    short: str  # "" when ccache has none
    long: str
    arg: str  # its argument's name, "" for none
    does: str  # what it does in zccache, for the docs and --help
    run: Callable[[State, str], int] | None = None
    instead: str = ""  # when refused: what to use instead
    early: bool = False  # sets how the other options run: taken first
    names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(n for n in (self.short, self.long) if n))


# -- what the options do ----------------------------------------------------------------


def _sub(*args: str) -> Callable[[State, str], int]:
    return lambda state, value: state.command(list(args))


def _show_stats(state: State, value: str) -> int:
    return state.command(["stats", *["--verbose"] * state.verbose])


def _set_env(name: str) -> Callable[[State, str], int]:
    def run(state: State, value: str) -> int:
        os.environ[name] = os.path.abspath(os.path.expanduser(value))
        return 0

    return run


def _verbose(state: State, value: str) -> int:
    state.verbose += 1
    return 0


def _format(state: State, value: str) -> int:
    if value not in ("tab", "json"):
        return _error(f"--format: {value!r} is not tab or json")
    state.format = value
    return 0


def _dry_run(state: State, value: str) -> int:
    state.dry_run = True
    return 0


def _threads(state: State, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        return _error(f"--threads: {value!r} is not a number of threads")
    state.threads = int(value)
    return 0


def _limit(name: str, what: str) -> Callable[[State, str], int]:
    def run(state: State, value: str) -> int:
        from zccache.core.setting_defs import BY_NAME, READERS, UNLIMITED, BadValue

        try:
            parsed = READERS[BY_NAME[name].kind](value)
        except BadValue as exc:
            return _error(f"{value!r} is not {exc}")
        if not _write(name, value.strip()):
            return 1
        if parsed in (0, UNLIMITED):
            print(f"Unset cache {what} limit")
        else:
            shown = control.human_size(parsed) if what == "size" else str(parsed)
            print(f"Set cache {what} limit to {shown}")
        return 0

    return run


def _set_config(state: State, value: str) -> int:
    from zccache.core.setting_defs import READERS, BadValue, named
    from zccache.core.settings_file import ENV_ONLY

    key, sep, text = value.partition("=")
    setting = named(key.strip())
    if not sep:
        return _error(f"-o: {value!r} is not KEY=VALUE")
    if setting is None:
        return _error(f"no setting like ccache's {key.strip()} in zccache (zccache -p lists every setting)")
    if setting.name in ENV_ONLY:
        return _error(f"{setting.name} is read before any settings file: set it in the environment")
    try:
        READERS[setting.kind](text) if text.strip() else None
    except BadValue as exc:
        return _error(f"{setting.name}: {text!r} is not {exc}")
    return 0 if _write(setting.name, text.strip()) else 1


def _get_config(state: State, value: str) -> int:
    from zccache.core import settings_file
    from zccache.core.setting_defs import named

    setting = named(value.strip())
    if setting is None:
        return _error(f"unknown setting {value!r} (zccache -p lists every setting)")
    if setting.name in os.environ:
        print(os.environ[setting.name])
    else:
        print(settings_file.load(os.environ).get(setting.name, setting.default))
    return 0


def _write(name: str, value: str) -> bool:
    from zccache.core import settings_file

    try:
        settings_file.write(os.environ, name, value)
    except (ValueError, OSError) as exc:
        _error(str(exc))
        return False
    return True


def _cleanup(state: State, value: str) -> int:
    store, error = control.store_or_error()
    if store is None:
        return _error(error)
    removed = store.local.enforce()
    print(f"Cleaned up: {removed} entries removed; {control.human_size(store.volume())} in {store.entries()} entries")
    return 0


_AGE = re.compile(r"^(\d+)([ds])$")


def _evict_older_than(state: State, value: str) -> int:
    m = _AGE.match(value.strip())
    if not m:
        return _error(f"--evict-older-than: {value!r} is not an age such as 7d or 3600s")
    seconds = int(m.group(1)) * (86400 if m.group(2) == "d" else 1)
    store, error = control.store_or_error()
    if store is None:
        return _error(error)
    n = store.evict_unused(seconds, dry_run=state.dry_run)
    print(f"{'Would evict' if state.dry_run else 'Evicted'} {n} entries not used for {value.strip()}")
    return 0


def _recompress(state: State, value: str) -> int:
    from zccache.core.setting_defs import READERS, BadValue

    text = value.strip()
    try:
        level = None if text == "uncompressed" else READERS["level"](text)
    except BadValue as exc:
        return _error(f"-X: {value!r} is not {exc}, or uncompressed")
    store, error = control.store_or_error()
    if store is None:
        return _error(error)
    done, before, after = store.recompress(level, state.threads)
    setting = ("ZCCACHE_COMPRESSION", "0") if level is None else ("ZCCACHE_COMPRESSION_LEVEL", str(level))
    if level is not None and not _write("ZCCACHE_COMPRESSION", "1"):
        return 1
    if not _write(*setting):
        return 1
    print(f"Recompressed {done} entries {'to uncompressed' if level is None else f'at level {level}'}: "
          f"{control.human_size(before)} -> {control.human_size(after)}; {setting[0]} = {setting[1]} in zccache.conf")
    return 0


def _hash_file(state: State, value: str) -> int:
    from zccache.core.hashing import hash_file

    try:
        print(hash_file(value))
    except OSError as exc:
        return _error(f"{value}: {exc.strerror}")
    return 0


def _print_stats(state: State, value: str) -> int:
    import json

    from zccache.core.stats import summarize

    store, error = control.store_or_error()
    if store is None:
        return _error(error)
    if control.daemon_wanted():
        control.daemon_ask("Status")  # a running daemon flushes its buffered counters first
    s = summarize(store.counters())
    remote = s["remote"]
    figures = {  # ccache's counter ids where zccache counts the same thing
        "direct_cache_hit": s["hits_direct"], "preprocessed_cache_hit": s["hits_preprocessed"],
        "cache_miss": s["misses"], "compile_failed": s["compile_failed"],
        "uncacheable": s["uncacheable_total"],  # ccache splits this over many ids; zccache -s names each reason
        "remote_storage_hit": remote["results_fetched"], "remote_storage_miss": remote["not_found"],  # type: ignore[index]
        "remote_storage_error": remote["errors"], "files_in_cache": store.entries(),  # type: ignore[index]
        "cache_size_kibibyte": store.volume() // 1024,
    }
    if state.format == "json":
        print(json.dumps(figures, indent=2))
    else:
        for name, number in figures.items():
            print(f"{name}\t{number}")
    return 0


def _version(state: State, value: str) -> int:
    print(control.version_text())
    return 0


def _print_version(state: State, value: str) -> int:
    from zccache import __version__

    print(__version__)
    return 0


_NO_LOG = "zccache keeps no stats log: record a build with zccache session-start --journal FILE, then zccache analyze FILE"
_NO_FILES = "zccache's results are rows in its store, not files: zccache -s counts them, zccache analyze explains a build's"
_NO_TRIM = ("zccache's remote tiers are servers, not directories: let the server expire entries "
            "(Redis maxmemory, an S3 lifecycle rule)")

OPTIONS: tuple[Option, ...] = (
    Option("-c", "--cleanup", "", "evict until the size (-M) and file (-F) limits hold", _cleanup),
    Option("-C", "--clear", "", "remove every cached result (the settings stay)", _sub("clear")),
    Option("", "--config-path", "PATH", "use the settings file PATH instead of zccache.conf in the cache directory",
           _set_env("ZCCACHE_CONFIGPATH"), early=True),
    Option("-d", "--dir", "PATH", "use the cache directory PATH", _set_env("ZCCACHE_CACHE_DIR"), early=True),
    Option("", "--dry-run", "", "--evict-older-than says what it would remove", _dry_run, early=True),
    Option("", "--evict-namespace", "NAMESPACE", "refused", instead="zccache has no namespaces: use --evict-older-than "
           "AGE, or ZCCACHE_CACHE_DIR per project and -C"),
    Option("", "--evict-older-than", "AGE", "remove the entries not used for AGE (7d, 3600s)", _evict_older_than),
    Option("-F", "--max-files", "NUM", "set the most entries kept (ZCCACHE_MAXFILES) in zccache.conf; 0: no limit",
           _limit("ZCCACHE_MAXFILES", "file")),
    Option("-M", "--max-size", "SIZE", "set the size limit (ZCCACHE_MAXSIZE) in zccache.conf: kB, MB, GB decimal, "
           "KiB, MiB, GiB binary, a bare number GiB; 0: no limit", _limit("ZCCACHE_MAXSIZE", "size")),
    Option("-X", "--recompress", "LEVEL", "rewrite every value at zstd LEVEL (or uncompressed), on all cores, "
           "each keeping its place in the LRU order; LEVEL is then the setting", _recompress),
    Option("-o", "--set-config", "KEY=VALUE", "set a setting in zccache.conf, by ccache's name or ours",
           _set_config),
    Option("-x", "--show-compression", "", "stored and original sizes, the ratio, by kind (compiles, links, rust, "
           "manifests)", _sub("config", "--compression")),
    Option("-p", "--show-config", "", "every setting in effect and where it came from", _sub("config")),
    Option("", "--show-log-stats", "", "refused", instead=_NO_LOG),
    Option("-s", "--show-stats", "", "hits, misses, uncacheable compiles by reason, the size (-v: the settings "
           "and every counter)", _show_stats),
    Option("", "--threads", "THREADS", "the threads -X compresses on (default: every core)",
           _threads, early=True),
    Option("-v", "--verbose", "", "more detail from -s", _verbose, early=True),
    Option("-z", "--zero-stats", "", "zero the counters (the daemon's too)", _sub("stats", "--zero")),
    Option("-h", "--help", "", "this help", _sub("--help")),
    Option("-V", "--version", "", "the version, the launcher, the daemon", _version),
    Option("", "--trim-dir", "PATH", "refused", instead=_NO_TRIM),
    Option("", "--trim-max-size", "SIZE", "refused", instead=_NO_TRIM),
    Option("", "--trim-method", "METHOD", "refused", instead=_NO_TRIM),
    Option("", "--trim-recompress", "LEVEL", "refused", instead=_NO_TRIM),
    Option("", "--checksum-file", "PATH", "refused", instead="zccache hashes with BLAKE3: zccache --hash-file PATH"),
    Option("", "--extract-result", "PATH", "refused", instead=_NO_FILES),
    Option("", "--format", "FORMAT", "tab or json, for --print-stats", _format, early=True),
    Option("-k", "--get-config", "KEY", "print a setting's value, by ccache's name or ours", _get_config),
    Option("", "--hash-file", "PATH", "print the BLAKE3 hash zccache keys the file's content by", _hash_file),
    Option("", "--inspect", "PATH", "refused", instead=_NO_FILES),
    Option("", "--stop-storage-helpers", "", "stop every zccache daemon of yours (zccache stop --all)",
           _sub("stop", "--all")),
    Option("", "--print-log-stats", "", "refused", instead=_NO_LOG),
    Option("", "--print-stats", "", "the counters as ID<tab>value lines (--format json: an object)", _print_stats),
    Option("", "--print-version", "", "the version alone", _print_version),
)
_BY_NAME = {name: o for o in OPTIONS for name in o.names}


def _error(text: str) -> int:
    sys.stderr.write(f"zccache: {text}\n")
    return 1


def parse(args: list[str]) -> list[tuple[Option, str]] | str:
    """The options in order with their arguments, or the one-line error (getopt's
    forms: -M 5, -M5, --max-size 5, --max-size=5, and -sv for flags)."""
    out: list[tuple[Option, str]] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            option = _BY_NAME.get(name)
            if option is None:
                return f"unknown option {name}"
            if option.arg and not eq:
                if i >= len(args):
                    return f"{name} needs {option.arg}"
                value, i = args[i], i + 1
            elif eq and not option.arg:
                return f"{name} takes no argument"
            out.append((option, value))
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                option = _BY_NAME.get("-" + arg[j])
                if option is None:
                    return f"unknown option -{arg[j]}"
                j += 1
                value = ""
                if option.arg:
                    value = arg[j:]
                    if not value:
                        if i >= len(args):
                            return f"-{option.short[1]} needs {option.arg}"
                        value, i = args[i], i + 1
                    j = len(arg)
                out.append((option, value))
        else:
            return f"unexpected argument {arg!r} (options only; a compile is zccache COMPILER ARGS...)"
    return out


def run(args: list[str], command: Command) -> int:
    """ccache's first form: options only, run as ccache runs them."""
    parsed = parse(args)
    if isinstance(parsed, str):
        sys.stderr.write(f"zccache: {parsed} (zccache --help lists the options)\n")
        return 2
    state = State(command)
    for option, value in parsed:
        if option.early:
            rc = option.run(state, value)  # type: ignore[misc]
            if rc:
                return rc
    for option, value in parsed:
        if option.early:
            continue
        if option.run is None:
            return _error(f"{option.long} is not supported: {option.instead}")
        rc = option.run(state, value)
        if rc:
            return rc
    return 0


def help_text() -> str:
    """The options, for zccache --help."""
    lines = ["ccache's options, with ccache's meanings:"]
    for o in OPTIONS:
        names = ", ".join(o.names) + (f" {o.arg}" if o.arg else "")
        lines.append(f"  {names:<32} {o.does if o.run else 'refused: ' + o.instead}")
    return "\n".join(lines)
