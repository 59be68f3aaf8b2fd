"""The remote workload: brotli's CMake build on a second "machine" that shares only
a Redis server with the first, beside the same build from its own local cache, for
zccache (ZCCACHE_REMOTE) and ccache (its Redis backend), in one run.

Machine A (checkout A, cache A) builds once and fills the remote. Machine B (checkout
B at another path, an empty cache of its own, no daemon running) then builds in a
fresh build dir: every hit comes from Redis. B builds again in another fresh build
dir: every hit is local. Each tool's base-dir setting points at its checkout.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import statistics
import subprocess
import time
from pathlib import Path

SETTINGS = {  # tool -> (its remote setting, its cache-dir setting)
    "zccache": ("ZCCACHE_REMOTE", "ZCCACHE_CACHE_DIR"),
    "ccache": ("CCACHE_REMOTE_STORAGE", "CCACHE_DIR"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(tools: dict, scratch: Path, build, tree_of, runs: int = 3) -> dict:
    """build(tool, source, build_dir, env) -> (configure s, build s); tree_of(scratch,
    name) -> a fresh brotli checkout."""
    exe = shutil.which("redis-server")
    if exe is None:
        return {"skipped": "redis-server is not installed (apt-get install redis-server)"}
    port = _free_port()
    server = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    return {"skipped": "redis-server did not start"}
                time.sleep(0.1)
        url = f"redis://127.0.0.1:{port}"
        tree = tree_of(scratch, "remote-a")
        other = scratch / "remote-b" / "src"
        shutil.copytree(tree, other)
        out: dict = {"runs": runs, "server": "redis-server " + _version(exe), "tools": {}}
        for name, (remote_var, cache_var) in SETTINGS.items():
            tool = tools.get(name)
            if tool is None:
                continue
            subprocess.run(["redis-cli", "-p", str(port), "flushall"], capture_output=True)
            a = _machine(tool, {remote_var: url + ("/0" if name == "zccache" else ""),
                                cache_var: str(scratch / f"remote-{name}-a")}, tree)
            a.fresh()
            build(a, tree, tree.parent / f"build-{name}", {})
            a.stop()
            time.sleep(1.0)  # background writes land
            remote_s, local_s, started_s = [], [], []
            for i in range(runs):
                b = _machine(tool, {remote_var: a.env[remote_var], cache_var: str(scratch / f"remote-{name}-b{i}")},
                             other)
                b.fresh()
                remote_s.append(build(b, other, other.parent / f"build-{name}-r{i}", {})[1])
                remote_stats = b.stats()
                b.zero()
                local_s.append(build(b, other, other.parent / f"build-{name}-l{i}", {})[1])
                local_stats = b.stats()
                b.stop()
                if name == "zccache":  # the same, with the daemon started before the build
                    b = _machine(tool, {remote_var: a.env[remote_var],
                                        cache_var: str(scratch / f"remote-{name}-s{i}")}, other)
                    b.fresh()
                    subprocess.run([b.launcher, "start"], env={**os.environ, **b.env}, capture_output=True)
                    started_s.append(build(b, other, other.parent / f"build-{name}-s{i}", {})[1])
                    b.stop()
            out["tools"][name] = {"remote_hit_s": statistics.median(remote_s), "local_hit_s": statistics.median(local_s),
                                  "remote_stats": remote_stats, "local_stats": local_stats}
            if started_s:
                out["tools"][name]["remote_hit_daemon_started_s"] = statistics.median(started_s)
        return out
    finally:
        server.kill()
        server.wait()


def _machine(tool, settings: dict[str, str], checkout: Path):
    env = {**tool.env, **settings}
    if tool.basedir_var:
        env[tool.basedir_var] = str(checkout.parent)
    return dataclasses.replace(tool, env=env, cache=Path(settings[SETTINGS[tool.name][1]]))


def _version(exe: str) -> str:
    text = subprocess.run([exe, "--version"], capture_output=True).stdout.decode()
    return next((w.split("=")[1] for w in text.split() if w.startswith("v=")), "?")


def table(w: dict) -> str:
    lines = [f"#### remote: brotli on a second machine sharing one {w['server']} (median of {w['runs']})", "",
             "| tool | remote hits (s) | hits | from remote | local hits (s) | hits | remote / local |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, row in w["tools"].items():
        fetched = row["remote_stats"].get("remote", {}).get("results_fetched", "-")
        lines.append(f"| {name} | {row['remote_hit_s']:.2f} | {row['remote_stats'].get('hits', '-')} | {fetched} | "
                     f"{row['local_hit_s']:.2f} | {row['local_stats'].get('hits', '-')} | "
                     f"{row['remote_hit_s'] / row['local_hit_s']:.2f}x |")
    z, c = w["tools"].get("zccache"), w["tools"].get("ccache")
    if z and c:
        lines += ["", f"zccache's remote-hit build is {z['remote_hit_s'] / c['remote_hit_s']:.2f}x ccache's "
                      f"(its local-hit build {z['local_hit_s'] / c['local_hit_s']:.2f}x)."]
        if "remote_hit_daemon_started_s" in z:
            started = z["remote_hit_daemon_started_s"]
            lines.append(f"With its daemon started before the build (a fresh machine's first build pays for that "
                         f"start), zccache's remote-hit build takes {started:.2f} s: "
                         f"{started / c['remote_hit_s']:.2f}x ccache's.")
    return "\n".join(lines)
