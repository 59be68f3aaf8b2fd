"""The remote workload: brotli's CMake build on a second "machine" that shares only
a Redis server (for zccache also: a local S3 API, moto's server) with the first,
beside the same build from its own local cache, for zccache (ZCCACHE_REMOTE) and
ccache (its Redis backend), in one run.

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

CACHE_VAR = {"zccache": "ZCCACHE_CACHE_DIR", "ccache": "CCACHE_DIR"}
S3_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(command: list[str], port: int) -> subprocess.Popen | None:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                return None
            time.sleep(0.1)


def run(tools: dict, scratch: Path, build, tree_of, runs: int = 3, moto: Path | None = None) -> dict:
    """build(tool, source, build_dir, env) -> (configure s, build s); tree_of(scratch,
    name) -> a fresh brotli checkout."""
    exe = shutil.which("redis-server")
    if exe is None:
        return {"skipped": "redis-server is not installed (apt-get install redis-server)"}
    servers = []
    try:
        port = _free_port()
        redis = _serve([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], port)
        if redis is None:
            return {"skipped": "redis-server did not start"}
        servers.append(redis)
        redis_url = f"redis://127.0.0.1:{port}"
        variants = []  # (row, tool name, remote settings)
        if "zccache" in tools:
            variants.append(("zccache", "zccache", {"ZCCACHE_REMOTE": redis_url + "/0"}))
            s3_port = _free_port()
            s3 = _serve([str(moto), "-H", "127.0.0.1", "-p", str(s3_port)], s3_port) if moto and moto.exists() else None
            if s3 is not None:
                servers.append(s3)
                import urllib.request

                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{s3_port}/zccache", method="PUT"))
                variants.append(("zccache (S3, moto)", "zccache",
                                 {"ZCCACHE_REMOTE": f"s3://zccache/bench?endpoint=http://127.0.0.1:{s3_port}", **S3_ENV}))
        if "ccache" in tools:
            variants.append(("ccache", "ccache", {"CCACHE_REMOTE_STORAGE": redis_url}))
        tree = tree_of(scratch, "remote-a")
        other = scratch / "remote-b" / "src"
        shutil.copytree(tree, other)
        out: dict = {"runs": runs, "server": "redis-server " + _version(exe), "tools": {}}
        for i_row, (row, name, remote) in enumerate(variants):
            tool = tools[name]
            a = _machine(tool, {**remote, CACHE_VAR[name]: str(scratch / f"remote-{i_row}-a")}, tree)
            a.fresh()
            build(a, tree, tree.parent / f"build-{i_row}", {})
            a.stop()
        time.sleep(1.0)  # background writes land
        # The rounds take each variant in turn: the machine's speed drifts over a
        # minute, and a variant timed in a block of its own carried the drift into the
        # ratio (ccache's remote build was 0.37 and 0.46 s in two runs of 22:16).
        times: dict[str, dict[str, list[float]]] = {row: {"remote": [], "total": [], "local": [], "started": []}
                                                    for row, _, _ in variants}
        for i in range(runs):
            for i_row, (row, name, remote) in enumerate(variants):
                tool, cache_var, got = tools[name], CACHE_VAR[name], times[row]
                b = _machine(tool, {**remote, cache_var: str(scratch / f"remote-{i_row}-b{i}")}, other)
                b.fresh()
                configure_s, build_s = build(b, other, other.parent / f"build-{i_row}-r{i}", {})
                got["remote"].append(build_s)
                got["total"].append(configure_s + build_s)
                remote_stats = b.stats()
                b.zero()
                got["local"].append(build(b, other, other.parent / f"build-{i_row}-l{i}", {})[1])
                out["tools"][row] = {"remote_stats": remote_stats, "local_stats": b.stats()}
                b.stop()
                if name == "zccache":  # the same, with the daemon started before the build
                    b = _machine(tool, {**remote, cache_var: str(scratch / f"remote-{i_row}-s{i}")}, other)
                    b.fresh()
                    subprocess.run([b.launcher, "start"], env={**os.environ, **b.env}, capture_output=True)
                    got["started"].append(build(b, other, other.parent / f"build-{i_row}-s{i}", {})[1])
                    b.stop()
        for row, got in times.items():
            out["tools"][row].update({"remote_hit_s": statistics.median(got["remote"]),
                                      "local_hit_s": statistics.median(got["local"]),
                                      "remote_hit_total_s": statistics.median(got["total"])})
            if got["started"]:
                out["tools"][row]["remote_hit_daemon_started_s"] = statistics.median(got["started"])
        return out
    finally:
        for server in servers:
            server.kill()
            server.wait()


def _machine(tool, settings: dict[str, str], checkout: Path):
    env = {**tool.env, **settings}
    if tool.basedir_var:
        env[tool.basedir_var] = str(checkout.parent)
    return dataclasses.replace(tool, env=env, cache=Path(settings[CACHE_VAR[tool.name]]))


def _version(exe: str) -> str:
    text = subprocess.run([exe, "--version"], capture_output=True).stdout.decode()
    return next((w.split("=")[1] for w in text.split() if w.startswith("v=")), "?")


def table(w: dict) -> str:
    lines = [f"#### remote: brotli on a second machine sharing one {w['server']} (median of {w['runs']})", "",
             "| tool (remote) | remote hits (s) | hits | from remote | with configure (s) | local hits (s) | hits | "
             "remote / local |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in w["tools"].items():
        fetched = row["remote_stats"].get("remote", {}).get("results_fetched", "-")
        total = f"{row['remote_hit_total_s']:.2f}" if "remote_hit_total_s" in row else "-"
        lines.append(f"| {name} | {row['remote_hit_s']:.2f} | {row['remote_stats'].get('hits', '-')} | {fetched} | {total} | "
                     f"{row['local_hit_s']:.2f} | {row['local_stats'].get('hits', '-')} | "
                     f"{row['remote_hit_s'] / row['local_hit_s']:.2f}x |")
    z, c = w["tools"].get("zccache"), w["tools"].get("ccache")
    if z and c:
        lines += ["", f"zccache's remote-hit build is {z['remote_hit_s'] / c['remote_hit_s']:.2f}x ccache's "
                      f"(its local-hit build {z['local_hit_s'] / c['local_hit_s']:.2f}x)."]
        if "remote_hit_total_s" in z and "remote_hit_total_s" in c:
            lines += ["", f"With the configure of the fresh build dir: "
                          f"{z['remote_hit_total_s'] / c['remote_hit_total_s']:.2f}x ccache's."]
    for name, row in w["tools"].items():
        if c and "remote_hit_daemon_started_s" in row:
            started = row["remote_hit_daemon_started_s"]
            lines.append(f"- {name}, its daemon started before the build (a fresh machine's first build pays for "
                         f"that start): {started:.2f} s, {started / c['remote_hit_s']:.2f}x ccache's.")
    return "\n".join(lines)
