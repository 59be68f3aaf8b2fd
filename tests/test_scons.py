"""SCons adapter: env.Tool('zccache') with compiles cached inside the SCons process."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import BIN, ROOT
from support.builds import LINK_RUNS, SCONS, UNITS, EXPECTED, project, run_app, scons
from support.builds import SCONS_DEMO as DEMO

pytestmark = [
    pytest.mark.skipif(SCONS is None, reason="scons is installed by the test extra"),
    # compiles run inside SCons, through no client: one client is enough for the stats calls
    pytest.mark.parametrize("zc", ["native"], indirect=True),
]


def test_rebuild_after_clean_and_in_fresh_checkout_is_all_hits(zc, tmp_path):
    proj = project(tmp_path)
    first = scons(zc, proj)
    assert first.returncode == 0, first.stderr
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (UNITS, 0)
    assert (stats["links"]["misses"], stats["links"]["hits"]) == (LINK_RUNS, 0)
    assert run_app(proj) == EXPECTED
    built = {name: (proj / name).read_bytes() for name in ("app", "libutil.a", "libplug.so")}
    assert scons(zc, proj, "-c").returncode == 0
    assert not (proj / "util" / "u0.o").exists()
    zc.zero()
    again = scons(zc, proj)
    assert again.returncode == 0, again.stderr
    stats = zc.stats()
    assert (stats["hits"], stats["misses"]) == (UNITS, 0)
    assert (stats["links"]["hits"], stats["links"]["misses"]) == (LINK_RUNS, 0)
    assert run_app(proj) == EXPECTED
    assert {name: (proj / name).read_bytes() for name in built} == built
    # a copy at another path (no -g: objects do not name their directory)
    other = project(tmp_path, "elsewhere")
    zc.zero()
    assert scons(zc, other).returncode == 0
    assert zc.stats()["hits"] == UNITS
    assert run_app(other) == EXPECTED
    # compiles ran in the SCons process: no daemon was started, its directory is untouched
    assert not os.listdir(zc.env["ZCCACHE_RUNTIME_DIR"])


def test_objects_equal_a_build_without_the_tool(zc, tmp_path):
    cached = project(tmp_path, "cached")
    assert scons(zc, cached).returncode == 0
    assert scons(zc, cached, "-c").returncode == 0
    assert scons(zc, cached).returncode == 0  # every object restored from the cache
    plain = project(tmp_path, "plain")
    assert scons(zc, plain, env={"ZCCACHE_DISABLE": "1"}).returncode == 0
    objects = sorted(p.relative_to(plain) for p in plain.rglob("*.o*") if p.suffix in (".o", ".os"))
    assert len(objects) == UNITS
    for rel in objects:
        assert (cached / rel).read_bytes() == (plain / rel).read_bytes(), rel


def test_header_edit_recompiles_exactly_its_dependents(zc, tmp_path):
    proj = project(tmp_path)
    assert scons(zc, proj).returncode == 0
    config = proj / "include" / "config.h"
    config.write_text(config.read_text().replace("FACTOR 7", "FACTOR 9"))
    zc.zero()
    done = scons(zc, proj)
    assert done.returncode == 0, done.stderr
    compiled = sorted(line.split()[2] for line in done.stdout.decode().splitlines() if " -c " in line)
    assert compiled == ["util/u0.o", "util/u1.o", "util/u2.o"]
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (3, 0)
    assert run_app(proj) != EXPECTED and b"plug 43" in run_app(proj)


def test_compile_error_fails_the_build_with_the_compilers_message(zc, tmp_path):
    proj = project(tmp_path)
    (proj / "util" / "u5.c").write_text("int util5(int x) { return x +; }\n")
    done = scons(zc, proj)
    assert done.returncode != 0
    assert b"u5.c:1:" in done.stderr and b"error:" in done.stderr
    assert b"Error 1" in done.stderr
    assert b"Traceback" not in done.stderr


def test_toolpath_alternative_and_summary(zc, tmp_path):
    proj = project(tmp_path)
    sconstruct = proj / "SConstruct"
    sconstruct.write_text(sconstruct.read_text().replace(
        'env.Tool("zccache")',
        'import zccache.plugins.scons as zs\nenv.Tool("zccache_tool", toolpath=[zs.TOOLPATH])'))
    done = scons(zc, proj, "--zccache-stats")
    assert done.returncode == 0, done.stderr
    assert f"zccache: 0 hits, {UNITS} misses".encode() in done.stdout
    assert f"; links: 0 hits, {LINK_RUNS} misses".encode() in done.stdout


def test_plain_tool_name_works_in_a_fresh_venv(zc, tmp_path):
    """pip install scons + this project (a normal, non-editable install) and nothing
    else: SCons finds env.Tool('zccache') by itself."""
    venv = tmp_path / "venv"
    subprocess.run([os.path.join(BIN, "python"), "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          "scons", str(ROOT)], capture_output=True)
    assert pip.returncode == 0, pip.stderr[-3000:]
    proj = tmp_path / "tiny"
    proj.mkdir()
    (proj / "SConstruct").write_text('env = Environment()\nenv.Tool("zccache")\nenv.Program("hello", ["hello.c"])\n')
    (proj / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    done = subprocess.run([str(venv / "bin" / "scons"), "-Q"], cwd=proj, env=zc.env, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert subprocess.run([str(proj / "hello")], capture_output=True).stdout == b"hi\n"
    assert zc.stats()["misses"] == 1
