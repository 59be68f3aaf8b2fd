"""One compile command, start to end: classify, then pass through or run the engine.

Shared by the in-process CLI and the daemon, so that both decide alike. A
passthrough is not run here: the caller ``exec``s the tool itself (the CLI) or
tells its client to (the daemon), so that a passed-through run is the plain tool,
stdin and terminal included.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zccache.core.config import Config
from zccache.core.engine import Engine
from zccache.core.invocation import Batch, Invocation, Outcome, Passthrough
from zccache.core.settings_file import with_file

if TYPE_CHECKING:
    from zccache.core.plans import Plans  # the daemon's; the in-process path has none


@dataclass(frozen=True)
class Exec:
    """Run the real tool as it is; the reason is already counted."""

    tool: str
    argv: list[str]
    reason: str
    action: str = "compile"


@dataclass
class Finished:
    returncode: int
    stdout: bytes
    stderr: bytes
    results: list[tuple[Invocation, Outcome]] = field(default_factory=list)


def zccache_command() -> str:
    """The zccache executable to put in front of compilers (shims, RUSTC_WRAPPER,
    meson native files): the one running now when it is a zccache script."""
    import shutil
    import sys

    here = os.path.abspath(sys.argv[0]) if sys.argv and os.path.basename(sys.argv[0]).startswith("zccache") else ""
    if here and os.path.basename(here) == "zccache-py":
        # the Python client, run by the native launcher beside it (or by hand): the
        # launcher is what every compile should start
        native = os.path.join(os.path.dirname(here), "zccache")
        if os.access(native, os.X_OK):
            return native
    if here and os.access(here, os.X_OK):
        return here
    return shutil.which("zccache") or here or "zccache"


NATIVE_MARKER = b"zccache-native-launcher "


_self_memo: dict[str, tuple[tuple, bool]] = {}


def is_self(tool: str) -> bool:
    """True when the 'compiler' is a zccache launcher: never recurse into it.
    Memoised by the file's stat signature: the daemon asks it for every compile."""
    try:
        st = os.stat(tool)
    except OSError:
        return False
    sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    known = _self_memo.get(tool)
    if known is not None and known[0] == sig:
        return known[1]
    found = _read_is_self(tool)
    if len(_self_memo) > 1024:
        _self_memo.clear()
    _self_memo[tool] = (sig, found)
    return found


def is_native(path: str) -> bool:
    """The native launcher: small, an ELF file with its marker string in its data."""
    try:
        with open(path, "rb") as f:
            return _native_file(f, f.read(4096))
    except OSError:
        return False


def _native_file(f, head: bytes) -> bool:
    # statically linked, the launcher is about 0.8 MB and its marker half-way in
    return head.startswith(b"\x7fELF") and NATIVE_MARKER in head + f.read(2 << 20)


def _read_is_self(tool: str) -> bool:
    try:
        with open(tool, "rb") as f:
            head = f.read(4096)
            if head.startswith(b"\x7fELF"):
                return _native_file(f, head)
    except OSError:
        return False
    # The console script and the pip shims import zccache_client; older ones named zccache.core.
    return (b"zccache_client" in head or b"zccache.core" in head) and (b"import" in head or b"-m" in head)


def launch(argv: list[str], cwd: str, env: Mapping[str, str], config: Config, pm, engine: Engine,
           umask: int | None = None, found: Invocation | Batch | Passthrough | None = None,
           plans: Plans | None = None) -> Exec | Finished:
    """argv[0] is the resolved tool; returns what to do, with observers already told.
    ``found`` is the classification when the caller has made it already; ``plans``
    the classifications a daemon keeps for commands it sees again."""
    tool = argv[0]
    env = with_file(env)  # the families read settings from the environment they are given
    if config.disabled:
        found = Passthrough("disabled")
    elif found is None:
        found = plans.recall(argv, cwd, env) if plans is not None else None
        if found is None:
            found = pm.hook.zccache_classify(argv=argv, cwd=cwd, env=env) or Passthrough("unsupported tool")
            if plans is not None:
                plans.keep(argv, cwd, env, found)
    if isinstance(found, Passthrough):
        observe(pm, None, Outcome(kind="passthrough", reason=found.reason, action=found.action))
        return Exec(tool=tool, argv=argv, reason=found.reason, action=found.action)
    parts = found.parts if isinstance(found, Batch) else [found]
    done = Finished(0, b"", b"")
    for inv in parts:
        inv.umask = umask
        result = engine.run(inv, config)
        done.stdout += result.stdout
        done.stderr += result.stderr
        done.results.append((inv, result.outcome))
        observe(pm, inv, result.outcome)
        if result.returncode != 0 and done.returncode == 0:
            done.returncode = result.returncode
    return done


def observe(pm, inv: Invocation | None, outcome: Outcome) -> None:
    try:
        pm.hook.zccache_on_result(invocation=inv, outcome=outcome)
    except Exception as exc:
        text = str(exc).strip().splitlines()
        os.write(2, f"zccache: result observer failed: {text[0] if text else type(exc).__name__}\n".encode())
