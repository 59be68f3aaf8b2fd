"""The soak: a generated C/C++ project built round after round against one daemon.

    python benchmarks/soak.py [--units 2000] [--rounds 5] [--jobs 4]

Each round edits the tree (nothing, one directory's header, 5 % of the sources, a
new header shadowing an included one, the header every unit includes), cleans the
zccache build and builds it again with Ninja -j<jobs> through the compiler launcher,
rebuilds a plain build of the same tree
from clean, and compares every object of the two. It reports, per round, the
hits and misses, the objects checked, and the daemon's resident memory, open file
descriptors and threads (from /proc), which the settings bound (the memory tier, the
hash memo): a leak shows as growth from round to round.

tests/test_soak.py runs a short version; `benchmarks/run.py --workloads soak` the full one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# what each round does to the tree before building
EDITS = ["none (cold)", "one directory's header", "5 % of the sources", "a new header shadowing an included one",
         "the header every unit includes"]


def generate(tree: Path, units: int, seed: int = 7) -> None:
    """units translation units (a fifth of them C++) in directories of 50, each
    including the project-wide header, its directory's header and two 'hub'
    headers chosen from ten that many units share."""
    rng = random.Random(seed)
    (tree / "include").mkdir(parents=True, exist_ok=True)
    (tree / "include" / "project.h").write_text("#pragma once\n#define PROJECT_SCALE 3\n")
    for h in range(10):
        (tree / "include" / f"hub{h}.h").write_text(f"#pragma once\nstatic inline int hub{h}(int x) {{ return x + {h}; }}\n")
    dirs = max(1, (units + 49) // 50)
    for d in range(dirs):
        sub = tree / f"mod{d:03d}"
        (sub / "inc").mkdir(parents=True, exist_ok=True)
        (sub / "inc" / "local.h").write_text(f"#pragma once\n#define LOCAL_{d} {d}\n")
    names = []
    for u in range(units):
        d = u // 50
        ext = "cpp" if u % 5 == 0 else "c"
        hubs = rng.sample(range(10), 2)
        body = [f'#include "project.h"', f'#include "local.h"', *(f'#include "hub{h}.h"' for h in hubs),
                f"int unit{u}(int x) {{ return hub{hubs[0]}(x) * PROJECT_SCALE + hub{hubs[1]}(LOCAL_{d}) + {u}; }}"]
        if ext == "cpp":
            body.insert(0, "#include <array>")  # a standard header, a fifth of <vector>'s compile time
            body.append(f"int unit{u}_size() {{ return (int)std::array<int, {u % 7 + 1}>{{}}.size(); }}")
        path = f"mod{d:03d}/u{u}.{ext}"
        (tree / path).write_text("\n".join(body) + "\n")
        names.append(path)
    lines = ["cmake_minimum_required(VERSION 3.16)", "project(soak C CXX)", "include_directories(include)"]
    for d in range(dirs):
        srcs = " ".join(n for n in names if n.startswith(f"mod{d:03d}/"))
        lines += [f"add_library(mod{d:03d} OBJECT {srcs})",
                  f"target_include_directories(mod{d:03d} PRIVATE mod{d:03d}/inc)"]
    (tree / "CMakeLists.txt").write_text("\n".join(lines) + "\n")


def edit(tree: Path, round_no: int, rng: random.Random) -> str:
    what = EDITS[round_no] if round_no < len(EDITS) else "5 % of the sources"
    if what == "one directory's header":
        p = tree / "mod000" / "inc" / "local.h"
        p.write_text(p.read_text().replace("LOCAL_0 0", "LOCAL_0 100"))
    elif what == "5 % of the sources":
        sources = sorted(tree.glob("mod*/u*.c*"))
        for p in rng.sample(sources, max(1, len(sources) // 20)):
            p.write_text(p.read_text() + f"int edited_{round_no}_{p.stem};\n")
    elif what == "the header every unit includes":
        p = tree / "include" / "project.h"
        p.write_text(p.read_text().replace("PROJECT_SCALE 3", "PROJECT_SCALE 4"))
    elif what == "a new header shadowing an included one":
        (tree / "mod001" / "hub3.h").write_text("#pragma once\nstatic inline int hub3(int x) { return x - 3; }\n")
    return what


def _proc(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1), "threads": int(fields["Threads"]),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def run(units: int, rounds: int, jobs: int, zccache: str, work: Path) -> dict:
    cmake = shutil.which("cmake")
    tree = work / "tree"
    generate(tree, units)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZCCACHE_") or k == "ZCCACHE_RUNTIME_DIR"}
    env.update(ZCCACHE_CACHE_DIR=str(work / "cache"), ZCCACHE_IDLE_TIMEOUT="600", LC_ALL="C")
    flags = ["-G", "Ninja", "-DCMAKE_C_FLAGS=-O1", "-DCMAKE_CXX_FLAGS=-O1"]
    ours, plain = work / "build-zccache", work / "build-plain"
    launch = [f"-DCMAKE_{lang}_COMPILER_LAUNCHER={zccache}" for lang in ("C", "CXX")]
    subprocess.run([cmake, *flags, "-S", str(tree), "-B", str(ours), *launch], env=env, check=True, capture_output=True)
    subprocess.run([cmake, *flags, "-S", str(tree), "-B", str(plain)], env=env, check=True, capture_output=True)
    subprocess.run([zccache, "start"], env=env, check=True, capture_output=True)
    pid = json.loads(subprocess.run([zccache, "status", "--json"], env=env, capture_output=True).stdout)["pid"]
    rng = random.Random(11)
    rows = []
    for r in range(rounds):
        what = edit(tree, r, rng)
        time.sleep(0.05)  # the edits' clock tick is past, as after any editor
        subprocess.run([zccache, "stats", "--zero"], env=env, check=True, capture_output=True)
        subprocess.run(["ninja", "-C", str(ours), "-t", "clean"], env=env, check=True, capture_output=True)
        started = time.monotonic()
        built = subprocess.run(["ninja", "-C", str(ours), f"-j{jobs}"], env=env, capture_output=True)
        seconds = time.monotonic() - started
        if built.returncode != 0:
            raise SystemExit(f"round {r}: the zccache build failed:\n{built.stdout.decode()[-2000:]}")
        # the plain build from clean too: Ninja's own deps do not see a new shadowing header
        subprocess.run(["ninja", "-C", str(plain), "-t", "clean"], env=env, check=True, capture_output=True)
        subprocess.run(["ninja", "-C", str(plain), f"-j{jobs}"], env=env, check=True, capture_output=True)
        objects = sorted(p.relative_to(plain) for p in plain.rglob("*.o"))
        differ = [str(o) for o in objects if (ours / o).read_bytes() != (plain / o).read_bytes()]
        stats = json.loads(subprocess.run([zccache, "stats", "--json"], env=env, capture_output=True).stdout)
        status = json.loads(subprocess.run([zccache, "status", "--json"], env=env, capture_output=True).stdout)
        if status.get("pid") != pid:
            raise SystemExit(f"round {r}: the daemon changed (pid {pid} -> {status.get('pid')})")
        rows.append({"round": r + 1, "edit": what, "seconds": round(seconds, 2), "hits": stats["hits"],
                     "misses": stats["misses"], "objects_checked": len(objects), "objects_differing": differ,
                     **_proc(pid)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    subprocess.run([zccache, "stop"], env=env, capture_output=True)
    return {"units": units, "rounds": rows, "jobs": jobs}


def table(result: dict) -> str:
    lines = [f"{result['units']} translation units, Ninja -j{result['jobs']}, one daemon for every round", "",
             "| round | edit | build (s) | hits | misses | objects checked | differing | daemon RSS (MB) | fds | threads |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["rounds"]:
        lines.append(f"| {r['round']} | {r['edit']} | {r['seconds']:.2f} | {r['hits']} | {r['misses']} | "
                     f"{r['objects_checked']} | {len(r['objects_differing'])} | {r['rss_mb']} | {r['fds']} | "
                     f"{r['threads']} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--zccache", default=shutil.which("zccache") or "zccache")
    ns = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zcsoak-"))
    try:
        result = run(ns.units, ns.rounds, ns.jobs, os.path.abspath(ns.zccache), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
