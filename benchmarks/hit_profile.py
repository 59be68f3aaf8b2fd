#!/usr/bin/env python3
"""The daemon's side of one warm hit (or miss), measured and profiled in one process.

    python benchmarks/hit_profile.py [--runs 2000] [--profile] [--miss]

Builds a Daemon on a scratch cache (as `zccache start` does, without the socket),
compiles brotli's c/enc/encode.c once (a miss: 105 headers), then times the same
CompileEphemeral request through Daemon._dispatch: everything a hit costs behind
the socket (classify, key, manifest check, restore). Prints the median and the
spread in microseconds; with --profile, cProfile's top functions by own time.
With --miss, each request adds a -D of its own (a new key, the same 105 headers), at
-O0: the daemon's work around a compile, and gcc's own time beside it.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import brotli_tree  # noqa: E402  (the benchmark suite's own download of brotli)

import msgpack  # noqa: E402

from zccache.core.daemon import Daemon  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--miss", action="store_true", help="time misses (a new -D each) instead of hits")
    ap.add_argument("--source", default="c/enc/encode.c", help="the brotli source compiled")
    ap.add_argument("--sort", default="cumulative", help="the --miss profile's order (cumulative, tottime, ...)")
    ns = ap.parse_args()
    if ns.miss:
        ns.runs = min(ns.runs, 60)
    scratch = Path(tempfile.mkdtemp(prefix="zc-hitprof-"))
    tree = brotli_tree(scratch, "brotli")
    env = {**os.environ, "ZCCACHE_CACHE_DIR": str(scratch / "cache"), "LC_ALL": "C"}
    daemon = Daemon(env, str(scratch / "unused.sock"))
    args = ["-O2", "-Ic/include", "-c", ns.source, "-o", str(scratch / "encode.o")]
    request = {"client_pid": os.getpid(), "working_dir": str(tree), "compiler": "/usr/bin/gcc", "args": args,
               "cwd": str(tree), "env": [[k, v] for k, v in env.items()], "stdin": b"", "umask": 0o022}

    def hit() -> dict:
        return msgpack.unpackb(daemon._dispatch("CompileEphemeral", request)[4:])

    if ns.miss:
        return _misses(ns, daemon, request, tree, args)

    first = hit()
    time.sleep(2.5)  # let the stat signatures settle, as between two builds
    second = hit()
    assert first["exit_code"] == 0 and second.get("cached"), (first, second)
    times = []
    for _ in range(ns.runs):
        start = time.perf_counter()
        hit()
        times.append(time.perf_counter() - start)
    times.sort()
    q = lambda f: times[int(f * (len(times) - 1))] * 1e6  # noqa: E731
    print(f"daemon side of a warm hit of brotli {ns.source}, {ns.runs} runs: median {statistics.median(times) * 1e6:.0f} us"
          f" (p10 {q(0.1):.0f}, p90 {q(0.9):.0f})")
    if ns.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(min(ns.runs, 1000)):
            hit()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(18)
    return 0


def _misses(ns, daemon, request: dict, tree: Path, args: list[str]) -> int:
    """Each run a new key; gcc alone timed on the same command line beside it."""
    import subprocess

    time.sleep(2.5)  # the headers' stat signatures settle, as in a build
    ours, plain = [], []
    prof = cProfile.Profile() if ns.profile else None
    for i in range(ns.runs):
        line = ["-O0", f"-DZC_MISS={i}", *args[1:]]
        start = time.perf_counter()
        subprocess.run(["/usr/bin/gcc", *line[:-2], "-o", "/dev/null"], cwd=tree, check=True)
        plain.append(time.perf_counter() - start)
        request["args"] = line
        if prof is not None:
            prof.enable()
        start = time.perf_counter()
        got = msgpack.unpackb(daemon._dispatch("CompileEphemeral", request)[4:])
        ours.append(time.perf_counter() - start)
        if prof is not None:
            prof.disable()
        assert got["exit_code"] == 0 and not got.get("cached"), got
    m, g = statistics.median(ours), statistics.median(plain)
    print(f"a miss of brotli {ns.source} at -O0, {ns.runs} runs: daemon {m * 1e3:.1f} ms, gcc alone {g * 1e3:.1f} ms,"
          f" overhead {(m - g) * 1e3:.1f} ms ({m / g:.2f}x)")
    if prof is not None:
        pstats.Stats(prof).sort_stats(ns.sort).print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
