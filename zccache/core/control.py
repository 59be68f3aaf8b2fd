"""Operations the commands and plugins share, with or without the daemon: resolving
a tool, compiling in this process, opening the store, asking this cache's daemon
(starting it when asked to), reading fingerprints. The CLI parses and dispatches;
this module does the work, so that a plugin or another command never imports the CLI.
"""

from __future__ import annotations

import os
import sys

import zccache_wire as wire
from zccache import __version__


def resolve_tool(name: str, cwd: str, path: str | None) -> str | None:
    """The tool's absolute path, looked up as the client does (one rule for both)."""
    return wire.which(name, cwd, path if path is not None else os.defpath)


def compile_main(args: list[str]) -> int:
    """Compile in this process: the path without a daemon, and the fallback."""
    from zccache.core.config import Config
    from zccache.core.launcher import Exec, is_self, launch

    from zccache.core.settings_file import with_file

    cwd = os.getcwd()
    env = with_file(os.environ)  # zccache.conf once, for the config and the families alike
    tool = resolve_tool(args[0], cwd, env.get("PATH"))
    if tool is None:
        sys.stderr.write(f"zccache: compiler '{args[0]}' not found\n")
        return 127
    if is_self(tool):
        sys.stderr.write(f"zccache: '{args[0]}' is zccache itself; name the real compiler\n")
        return 127
    argv = [tool, *args[1:]]
    config = Config.from_env(env)
    for line in config.problems:  # no daemon to say them once: each compile says them
        warn_line(line)
    from zccache.core.engine import Engine
    from zccache.core.plugins import make_manager

    pm = make_manager(memo_dir=config.cache_dir)
    store = open_store(config)
    if store is not None:
        from zccache.core.stats import StatsRecorder

        pm.register(StatsRecorder(store))
        from zccache.core.toolchains import tool_memo

        tool_memo.keep_in(store)
        from zccache.core.tiers import attach

        attach(store, pm, config, warn_line)
    decision = launch(argv, cwd, env, config, pm, Engine(config, store, pm.hook))
    if isinstance(decision, Exec):
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(decision.tool, decision.argv)
    from zccache.core.inprocess import emit

    emit(decision.stdout, decision.stderr)
    return decision.returncode


def warn_line(text: str) -> None:
    sys.stderr.write(f"zccache: {text}\n")


def open_store(config):
    from zccache.core.store import Store, StoreError

    try:
        return Store.for_config(config)
    except StoreError as exc:
        sys.stderr.write(f"zccache: cache disabled: {exc}\n")
        return None


def store_or_error():
    from zccache.core.config import Config, ConfigError
    from zccache.core.store import Store, StoreError

    try:
        config = Config.from_env(os.environ)
        return Store.for_config(config), None
    except (ConfigError, StoreError) as exc:
        return None, str(exc)


def daemon_ask(kind: str, start: bool = False, **fields):
    """One request to this cache's daemon; None when no daemon answers."""
    directory, sock_path = wire.daemon_paths(os.environ)
    if start and ping(sock_path) is None:
        if start_daemon(sock_path) is None:
            return None
    if not wire.private_dir_ok(directory):
        return None
    try:
        return wire.roundtrip(sock_path, {"t": kind, **fields}, timeout=600)
    except OSError:
        return None


def in_background(work) -> int:
    """Runs work in a detached child and returns at once: a configure step
    (CMake's execute_process) waits for its children's output pipes to close."""
    if not daemon_wanted() or wire.switch(os.environ, "ZCCACHE_DISABLE", False):
        return 0  # no daemon to start: compiles run in their own process
    try:
        pid = os.fork()
    except OSError:
        return 0
    if pid:
        return 0
    code = 1
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        code = work()
    finally:
        os._exit(code)


def version_text() -> str:
    """Which launcher answered (the native one hands --version over with
    ZCCACHE_LAUNCHER=native set) and which daemon serves this cache, if one runs."""
    launcher = "native" if os.environ.get("ZCCACHE_LAUNCHER") == "native" else "python"
    directory, sock_path = wire.daemon_paths(os.environ)
    reply = ping(sock_path) if wire.private_dir_ok(directory) else None
    status = reply.get("status") if isinstance(reply, dict) else None
    daemon = f"daemon {status.get('version')} (pid {status.get('pid')})" if isinstance(status, dict) else "no daemon running"
    return f"zccache {__version__} (pyzccache); launcher: {launcher}; {daemon}"


def ping(sock_path: str):
    try:
        return wire.roundtrip(sock_path, {"t": "Status"}, timeout=5)
    except OSError:
        return None


def start_daemon(sock_path: str):
    """Start the daemon the way a compile does, and return its Status answer."""
    if wire.start_and_wait(sock_path, seconds=15):
        answer = ping(sock_path)
        if answer is not None:
            return answer
    sys.stderr.write(f"zccache: the daemon did not start; see {sock_path[: -len('.sock')]}.log\n")
    return None


def fingerprints_in_process():
    from zccache.core.fingerprint import Fingerprints

    store, error = store_or_error()
    if store is None:
        sys.stderr.write(f"zccache: {error}\n")
        return None
    return Fingerprints(store)


def daemon_wanted() -> bool:
    return wire.switch(os.environ, "ZCCACHE_DAEMON", True)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} TiB"


def start_in_background(words: list[str]) -> int:
    """`start --background [--warm TOOL...]` without the parser, and from the Python
    client before the CLI's imports: a configure step starts the daemon as it begins,
    and the daemon (0.15 s of imports) came up after brotli's configure (0.28 s) had
    ended, so the build's first compiles waited for it."""
    rest = [w for w in words if w != "--background"]
    tools = rest[1:] if rest[:1] == ["--warm"] else None
    if rest and not tools or tools and any(t.startswith("-") for t in tools):
        sys.stderr.write("zccache: start --background takes only --warm TOOL...\n")
        return 2
    return in_background(lambda: start(tools or [], quiet=True))


def start(warm: list[str], quiet: bool) -> int:
    _, sock_path = wire.daemon_paths(os.environ)
    answer = ping(sock_path)
    if answer is not None and answer.get("t") == "Status":
        said = "zccache daemon already running"
    else:
        answer = start_daemon(sock_path)
        if answer is None or answer.get("t") != "Status":
            return 1
        said = "zccache daemon running"
    if not quiet:
        print(f"{said} (pid {answer['status']['pid']}, socket {sock_path})")
    if not warm:
        return 0
    cwd = os.getcwd()
    tools = []
    for name in warm:
        tool = resolve_tool(name, cwd, os.environ.get("PATH"))
        if tool is None:
            sys.stderr.write(f"zccache: --warm: '{name}' not found\n")
            return 1
        tools.append(tool)
    reply = daemon_ask("Warm", tools=tools, cwd=cwd, env=[[k, v] for k, v in os.environ.items()])
    if reply is None or reply.get("t") != "Warming":
        message = reply.get("message") if isinstance(reply, dict) else "no answer"
        sys.stderr.write(f"zccache: --warm: {message}\n")
        return 1
    if not quiet:
        print(f"warming {reply['tools']} tool{'' if reply['tools'] == 1 else 's'} in the daemon")
    return 0
