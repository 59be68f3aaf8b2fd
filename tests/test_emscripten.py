"""Emscripten: emcc and em++ compiles and links through the store (Debian's
emscripten), with its version and its configuration in the key."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from support import need, no_traceback, write

pytestmark = pytest.mark.parametrize("zc", ["native"], indirect=True)


def sources(tmp_path):
    write(tmp_path / "util.h", "int twice(int x);\n")
    write(tmp_path / "util.c", '#include "util.h"\nint twice(int x) { return 2 * x; }\n')
    write(tmp_path / "main.cpp", '#include <cstdio>\nextern "C" {\n#include "util.h"\n}\n'
          'int main() { std::printf("twice %d\\n", twice(21)); return twice(2); }\n')


def test_emcc_compiles_and_links_hit_with_the_compilers_bytes(zc, tmp_path):
    need("emcc", "emscripten")
    sources(tmp_path)
    builds = []
    for _ in range(2):
        for out in ("util.o", "main.o", "app.js", "app.wasm"):
            (tmp_path / out).unlink(missing_ok=True)
        for argv in (["emcc", "-O1", "-c", "util.c", "-o", "util.o"], ["em++", "-O1", "-c", "main.cpp", "-o", "main.o"],
                     ["em++", "-O1", "util.o", "main.o", "-o", "app.js"]):
            done = zc.run(*argv, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            no_traceback(done)
        builds.append({name: (tmp_path / name).read_bytes() for name in ("util.o", "main.o", "app.js", "app.wasm")})
    assert builds[0] == builds[1]
    stats = zc.stats()
    assert (stats["hits"], stats["misses"]) == (2, 2)
    assert (stats["links"]["hits"], stats["links"]["misses"]) == (1, 1)
    # the plain toolchain gives the same files
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in ("util.c", "util.h", "main.cpp"):
        shutil.copy(tmp_path / name, plain / name)
    for argv in (["emcc", "-O1", "-c", "util.c", "-o", "util.o"], ["em++", "-O1", "-c", "main.cpp", "-o", "main.o"],
                 ["em++", "-O1", "util.o", "main.o", "-o", "app.js"]):
        assert zc.plain(*argv, cwd=plain).returncode == 0
    assert {name: (plain / name).read_bytes() for name in builds[0]} == builds[0]
    # and the program runs (node 18+ would fetch() the .wasm by URL in this emscripten's runtime)
    node = need("node", "nodejs")
    ran = subprocess.run([node, "--no-experimental-fetch", "app.js"], cwd=tmp_path, capture_output=True)
    assert (ran.returncode, ran.stdout) == (4, b"twice 42\n")


def test_emscripten_configuration_and_link_options(zc, tmp_path):
    need("emcc", "emscripten")
    sources(tmp_path)
    found = subprocess.run(["em-config", "EM_CONFIG"], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    config = tmp_path / "emscripten-config"
    shutil.copy(found.stdout.strip(), config)
    env = {"EM_CONFIG": str(config)}
    for _ in range(2):
        assert zc.run("emcc", "-c", "util.c", "-o", "util.o", cwd=tmp_path, env=env).returncode == 0
    assert (zc.stats()["hits"], zc.stats()["misses"]) == (1, 1)
    # an edit of the configuration (where LLVM, binaryen and the cache are) misses
    write(config, config.read_text() + "\n# edited\n")
    assert zc.run("emcc", "-c", "util.c", "-o", "util.o", cwd=tmp_path, env=env).returncode == 0
    assert (zc.stats()["hits"], zc.stats()["misses"]) == (1, 2)
    # options that make a link read or write other files run as they are, counted
    write(tmp_path / "pre.js", "// before\n")
    assert zc.run("emcc", "util.c", "-c", "-o", "util.o", cwd=tmp_path).returncode == 0
    for argv, reason in ((["--pre-js", "pre.js"], "unsupported emscripten link option --pre-js"),
                         (["-sSINGLE_FILE=1"], "unsupported emscripten setting SINGLE_FILE")):
        done = zc.run("emcc", "util.o", "-sEXPORTED_FUNCTIONS=_twice", "--no-entry", *argv, "-o", "lib.js",
                      cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert reason in zc.stats()["links"]["uncacheable"]
