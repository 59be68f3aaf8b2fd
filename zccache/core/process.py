"""Running the real tool: argument vectors only, never a shell string."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping


def run_tool(command: list[str], cwd: str, env: Mapping[str, str], umask: int | None = None,
             timeout: float | None = None, given: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run command, capturing its output so that it can be stored and replayed.

    stdin is closed: a cacheable run never reads it (reading stdin is a passthrough).
    A probe may give it input (given). A timeout is for questions asked of a tool
    (probes), never for a compile."""
    try:
        proc = subprocess.run(command, cwd=cwd, env=dict(env), capture_output=True, check=False, input=given,
                              stdin=subprocess.DEVNULL if given is None else None,
                              umask=-1 if umask is None else umask, timeout=timeout)
    except OSError as exc:
        return 127, b"", f"zccache: cannot run {command[0]!r}: {exc.strerror}\n".encode()
    except subprocess.TimeoutExpired:
        return 124, b"", f"zccache: {command[0]!r} did not answer in {timeout} s\n".encode()
    return proc.returncode, proc.stdout, proc.stderr


def scratch_dir(env: Mapping[str, str], prefix: str) -> str:
    """A new private directory for one run's scratch files (a depfile, LTO's
    partitions, a probe's input): below the client's TMPDIR when that is a directory,
    else the system's. Never the daemon's own TMPDIR alone: a daemon outlives the
    `zccache pip` that started it with a TMPDIR of its own, which is gone by the next
    build (every miss then failed over to the slow in-process client)."""
    chosen = env.get("TMPDIR", "")
    for base in ([chosen] if os.path.isabs(chosen) else []) + [None, "/tmp"]:
        try:
            return tempfile.mkdtemp(prefix=prefix, dir=base)
        except OSError:
            continue
    return tempfile.mkdtemp(prefix=prefix, dir=os.getcwd())
