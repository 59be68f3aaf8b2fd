"""Ask a build's tools about themselves before its first compile needs the answers.

A new daemon's first compile probes its compiler (a handful of runs) and hashes the
programs behind it (gcc's cc1 and cc1plus are 70 MB); the first link probes the
linker and hashes collect2, ld and lto1. On a fresh machine (a CI runner, a second
machine sharing a remote) that is 100 to 300 ms the build waits for, on the first
compiles and again on the link at its end. A configure step knows the tools already
(zccache.cmake names them when CMake has found them): `zccache start --warm TOOL...`
starts the daemon and has it ask them while configure finishes. Nothing is compiled,
linked or stored but what the tools say of themselves, which a compile would have
asked in the same way (tool_memo.py, Engine.tool_identity).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping

from zccache.core.invocation import Batch, Invocation


def _lines(tool: str) -> list[list[str]]:
    """Command lines that make each family that could own this tool take it as its
    own: a compile and a link (gcc, clang, emcc), or an archive (ar, ranlib)."""
    return [[tool, "-c", "warm.c", "-o", "warm.o"], [tool, "warm.o", "-o", "warm"], [tool, "qc", "libwarm.a", "warm.o"]]


def warm(tools: list[str], env: Mapping[str, str], classify: Callable[..., object], identify: Callable[[Invocation], str],
         log: Callable[[str], None]) -> int:
    """Asks each tool what a compile, a link or an archive through it would ask;
    returns how many identities were computed. A line no family takes as a cacheable
    run of that tool is skipped: warming never runs a build step."""
    done = 0
    with tempfile.TemporaryDirectory(prefix="zccache-warm-") as work:
        for name in ("warm.c", "warm.o"):
            with open(os.path.join(work, name), "wb"):
                pass
        for tool in tools:
            for argv in _lines(tool):
                try:
                    found = classify(argv=argv, cwd=work, env=env)
                    parts = found.parts if isinstance(found, Batch) else [found]
                    for inv in parts:
                        if isinstance(inv, Invocation):
                            identify(inv)
                            done += 1
                except Exception as exc:  # a tool that cannot be asked is asked again by its first compile
                    text = str(exc).strip().splitlines()
                    log(f"warming {tool}: {text[0] if text else type(exc).__name__}")
    return done
