"""The Python client: the ``zccache`` command where no C compiler built the native
launcher, and ``zccache-py``, which the launcher execs for everything but a daemon's
answer.

Its whole cost is the interpreter's start-up plus what it imports: this module and
zccache_wire (where the daemon listens, the request, the frames). A hit is one
connect, one frame out, one frame back. Anything else (a sub-command, no daemon, a
daemon that dies mid-request, an Error answer) goes to the in-process CLI, which
gives the same result more slowly, so a build never fails because of the daemon.

This is the top of the import graph: it imports the CLI, and nothing imports it.
"""

import os
import sys

import zccache_wire as wire

__version__ = wire.__version__


def main() -> int:
    args = sys.argv[1:]
    name = os.path.basename(sys.argv[0]) if sys.argv else "zccache"
    if name not in wire.CLIENT_NAMES:  # masquerade: run as `gcc`, this is `zccache <the next gcc on PATH>`
        real = wire.next_compiler(name, os.getcwd(), os.environ.get("PATH", os.defpath), sys.argv[0])
        if real is None:
            wire.write_all(2, f"zccache: no {name} on PATH but zccache itself\n".encode())
            return 127
        args = [real, *args]
    if args[:1] == ["start"] and "--background" in args:  # a configure step starting the daemon
        from zccache.core.control import start_in_background

        return start_in_background(args[1:])
    if not args or args[0][:1] == "-" or args[0] in wire.COMMANDS:
        return _in_process(args)
    env = os.environ
    if not wire.client_wants_daemon(env):
        return _in_process(args)
    cwd = os.getcwd()
    tool = wire.which(args[0], cwd, env.get("PATH", os.defpath))
    if tool is None:
        return _in_process(args)
    directory, sock_path = wire.daemon_paths(env)
    umask = os.umask(0o022)
    os.umask(umask)
    dump_to = env.get(wire.DUMP_VAR)
    if dump_to:
        wire.dump(dump_to, sock_path, env, wire.compile_request(tool, args[1:], cwd, env, umask, 0))
        return 0
    started = False
    if not wire.private_dir_ok(directory):
        if os.path.lexists(directory) or not wire.start_and_wait(sock_path):
            return _in_process(args)  # not ours alone (never trusted), or no daemon came up
        started = True
    request = wire.compile_request(tool, args[1:], cwd, env, umask, os.getpid())
    silence = wire.timeout_ms(env) / 1000
    for _ in range(wire.BACKPRESSURE_RETRIES):
        try:
            reply = wire.roundtrip(sock_path, request, silence)
        except TimeoutError:
            # A daemon that sends nothing, not even a KeepAlive, is stopped, wedged or
            # swapping: the build must not wait for it.
            wire.write_all(2, f"zccache: the daemon sent nothing for {silence:g} s; compiling without it\n".encode())
            os.execv(tool, [tool, *args[1:]])
        except (ConnectionRefusedError, FileNotFoundError):
            # No daemon, or the socket of a crashed one: start one and wait for it
            # (once), rather than paying for the whole engine in this process.
            if started or not wire.start_and_wait(sock_path):
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
            wire.write_all(2, reply.get("stderr", b""))  # what the daemon has to say (a bad setting)
            os.execv(tool, [tool, *args[1:]])
        wire.write_all(1, reply.get("stdout", b""))
        wire.write_all(2, reply.get("stderr", b""))
        # Everything is written (unbuffered); skip the interpreter's teardown.
        os._exit(int(reply.get("exit_code", 1)))
    return _in_process(args)


def _in_process(args: list[str]) -> int:
    from zccache.core.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
