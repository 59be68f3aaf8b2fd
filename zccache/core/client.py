"""The ``zccache`` entry point, and the thin client of the daemon.

Every compile of a build starts this module, so on the compile path it imports
only ``os``, ``sys``, ``_socket`` and two small modules of ours (paths, wire): no
pluggy, diskcache, msgpack or rich. A hit is one connect, one frame out, one frame
back. Anything else (a sub-command, no daemon, a daemon that dies mid-request, an
Error answer) goes to the in-process CLI, which gives the same result more slowly,
so a build never fails because of the daemon.
"""

import os
import sys

# No `from __future__ import annotations` here: it loads a module, and annotations
# below are plain builtins that evaluate cheaply.

_COMMANDS = frozenset({
    "stats", "clear", "help", "start", "stop", "status", "session-start", "session-stats", "session-end",
    "analyze", "fp", "cmake-module-dir", "pip", "python", "meson-native-file", "cargo", "rust-artifacts",
})
_OFF = ("0", "false", "no", "off")
BACKPRESSURE_RETRIES = 400


def main() -> int:
    args = sys.argv[1:]
    if not args or args[0][:1] == "-" or args[0] in _COMMANDS:
        return _in_process(args)
    env = os.environ
    if env.get("ZCCACHE_DAEMON", "1").lower() in _OFF or env.get("ZCCACHE_DISABLE", "0").lower() not in _OFF:
        return _in_process(args)
    cwd = os.getcwd()
    tool = _which(args[0], cwd, env.get("PATH", os.defpath))
    if tool is None:
        return _in_process(args)
    from zccache.core import paths

    directory, sock_path = paths.daemon_paths(env)
    started = False
    if not paths.private_dir_ok(directory):
        if os.path.lexists(directory) or not _start_and_wait(sock_path):
            return _in_process(args)  # not ours alone (never trusted), or no daemon came up
        started = True
    umask = os.umask(0o022)
    os.umask(umask)
    request = {
        "client_pid": os.getpid(), "working_dir": cwd, "compiler": tool, "args": args[1:], "cwd": cwd,
        "env": [[k, v] for k, v in env.items()], "stdin": b"", "umask": umask,
    }
    session = env.get("ZCCACHE_SESSION_ID")
    if session:
        request["t"], request["session_id"] = "Compile", session
    else:
        request["t"] = "CompileEphemeral"
    for _ in range(BACKPRESSURE_RETRIES):
        try:
            reply = roundtrip(sock_path, request)
        except (ConnectionRefusedError, FileNotFoundError):
            # No daemon, or the socket of a crashed one: start one and wait for it
            # (once), rather than paying for the whole engine in this process.
            if started or not _start_and_wait(sock_path):
                return _in_process(args)
            started = True
            continue
        except OSError:
            return _in_process(args)  # died mid-request, or cannot talk: compile here
        if reply is None or not isinstance(reply, dict):
            return _in_process(args)
        kind = reply.get("t")
        if kind == "Backpressure":
            import time

            time.sleep(max(1, min(int(reply.get("retry_after_ms", 10)), 1000)) / 1000)
            continue
        if kind != "CompileResult":
            return _in_process(args)  # an Error: the in-process path will say what is wrong
        if reply.get("passthrough"):
            os.execv(tool, [tool, *args[1:]])
        _write_all(1, reply.get("stdout", b""))
        _write_all(2, reply.get("stderr", b""))
        # Everything is written (unbuffered); skip the interpreter's teardown.
        os._exit(int(reply.get("exit_code", 1)))
    return _in_process(args)


def _in_process(args: list[str]) -> int:
    from zccache.core.cli import main as cli_main

    return cli_main(args)


def _which(name: str, cwd: str, path: str) -> str | None:
    if "/" in name:
        full = os.path.join(cwd, name)
        return full if os.path.isfile(full) and os.access(full, os.X_OK) else None
    for directory in path.split(os.pathsep):
        full = os.path.join(directory or ".", name)
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return os.path.abspath(full)
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def roundtrip(sock_path: str, request: dict, timeout: float | None = None):
    """Send one request, read one answer (None when the daemon closed without one)."""
    import _socket

    from zccache.core import wire

    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        if timeout is not None:
            s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(wire.frame(wire.pack(request)))
        payload = wire.recv_frame(s)
    finally:
        s.close()
    if payload is None:
        return None
    try:
        return wire.unpack(payload)
    except wire.WireError:
        return None


def _start_and_wait(sock_path: str, seconds: float = 3.0) -> bool:
    """Start a daemon and wait until its socket answers connections. False when it
    exits with an error (a broken cache directory, say) or does not come up in time."""
    import time

    pid = _spawn_daemon()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pid:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = 0, 0
            if done == pid:
                pid = 0
                if status != 0:
                    return False  # it failed; exit 0 means another daemon holds the lock
        if os.path.exists(sock_path):
            import _socket

            probe = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            try:
                probe.connect(sock_path)
                return True
            except OSError:
                pass  # bound, not yet listening; or stale
            finally:
                probe.close()
        time.sleep(0.005)
    return False


def _spawn_daemon() -> int:
    """Start a daemon for this cache in the background, detached from the build's
    terminal and pipes (a build tool waits for its children's output pipes to close).
    Returns the child's pid (0 when it could not fork)."""
    try:
        pid = os.fork()
    except OSError:
        return 0
    if pid:
        return pid
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        from zccache.core import paths

        directory, sock_path = paths.daemon_paths(os.environ)
        log = null
        if paths.private_dir_ok(directory) or _make_private(directory):
            log = os.open(sock_path[: -len(".sock")] + ".log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(log, 2)
        os.chdir("/")
        os.execv(sys.executable, [sys.executable, "-m", "zccache.core.daemon"])
    finally:
        os._exit(0)


def _make_private(directory: str) -> bool:
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return False
    from zccache.core import paths

    return paths.private_dir_ok(directory)


if __name__ == "__main__":
    sys.exit(main())
