"""Masquerade, as distributions deploy ccache: a directory of links named gcc, cc,
g++ ... to zccache, first on PATH, caches builds that name plain compilers (a
Makefile with CC=gcc, an autoconf configure script) without changing them. Both
clients masquerade, so each test runs with both."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import ZCCACHE_PY, need, no_traceback, write

ALL_CLIENTS = True

MAKEFILE = """CC = gcc
CXX = g++
app: main.o util.o
\t$(CXX) -o app main.o util.o
main.o: main.c util.h
\t$(CC) -O2 -c main.c -o main.o
util.o: util.cpp util.h
\t$(CXX) -O2 -c util.cpp -o util.o
"""
MAIN = '#include <stdio.h>\n#include "util.h"\nint main(void) { printf("%d\\n", twice(21)); return 0; }\n'
UTIL_H = '#ifdef __cplusplus\nextern "C"\n#endif\nint twice(int);\n'
UTIL = '#include "util.h"\nextern "C" int twice(int x) { return 2 * x; }\n'


def links(zc, tmp_path: Path) -> Path:
    """The masquerade directory: `zccache symlinks` for the native launcher; links to
    the Python client made by hand for it (its own command links to the launcher)."""
    directory = tmp_path / "zclinks"
    if os.path.basename(os.path.realpath(zc.command)) == "zccache-py":
        directory.mkdir()
        for name in ("gcc", "g++", "cc"):
            (directory / name).symlink_to(ZCCACHE_PY)
    else:
        done = zc.run("symlinks", str(directory), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert {"gcc", "g++", "cc"} <= {p.name for p in directory.iterdir()}
    return directory


def masked_env(zc, directory: Path) -> dict[str, str]:
    return {**zc.env, "PATH": f"{directory}{os.pathsep}{zc.env['PATH']}"}


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "src"
    if src.exists():
        shutil.rmtree(src)
    for name, text in files.items():
        write(src / name, text)
    return src


def test_a_makefile_that_names_gcc_is_cached(zc, tmp_path):
    directory = links(zc, tmp_path)
    env = masked_env(zc, directory)
    files = {"Makefile": MAKEFILE, "main.c": MAIN, "util.h": UTIL_H, "util.cpp": UTIL}
    outputs = []
    for _ in range(2):  # a fresh copy each time, at the same place
        src = project(tmp_path, files)
        done = subprocess.run(["make"], cwd=src, env=env, capture_output=True)
        no_traceback(done)
        assert done.returncode == 0, done.stderr
        outputs.append(subprocess.run([str(src / "app")], capture_output=True).stdout)
        if len(outputs) == 1:
            first = zc.stats()
            assert (first["misses"], first["hits"]) == (2, 0)
            zc.zero()
    stats = zc.stats()
    assert (stats["misses"], stats["hits"], stats["links"]["hits"]) == (0, 2, 1)
    assert outputs == [b"42\n", b"42\n"]


def test_masquerade_without_a_real_compiler_says_so(zc, tmp_path):
    directory = links(zc, tmp_path)
    write(tmp_path / "a.c", "int a;\n")
    env = {**zc.env, "PATH": str(directory)}  # nothing after the links
    done = subprocess.run([str(directory / "gcc"), "-c", "a.c"], cwd=tmp_path, env=env, capture_output=True)
    assert (done.returncode, done.stderr) == (127, b"zccache: no gcc on PATH but zccache itself\n")


CONFIGURE_AC = """AC_INIT([zcdemo], [1.0])
AC_PROG_CC
AC_CHECK_HEADERS([stdio.h zc_no_such_header.h])
AC_CHECK_FUNCS([printf zc_no_such_function])
AC_CONFIG_HEADERS([config.h])
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
"""
MAKEFILE_IN = """CC = @CC@
CFLAGS = @CFLAGS@ @DEFS@
app: main.o
\t$(CC) $(CFLAGS) -o app main.o
main.o: main.c config.h
\t$(CC) $(CFLAGS) -c main.c -o main.o
"""
CONFIGURED_MAIN = """#include "config.h"
#include <stdio.h>
int main(void) {
#if defined(HAVE_STDIO_H) && defined(HAVE_PRINTF) && !defined(HAVE_ZC_NO_SUCH_FUNCTION)
    printf("configured right\\n");
#endif
    return 0;
}
"""


@pytest.mark.parametrize("zc", ["native"], indirect=True)  # the Python client's masquerade: the Makefile test
def test_an_autoconf_configure_script_answers_as_without_the_cache(zc, tmp_path):
    """configure's own compile and link tests answer as they do without zccache
    (config.h is the same), and the second build of a fresh copy is all hits."""
    need("autoconf", "autoconf")
    directory = links(zc, tmp_path)
    env = masked_env(zc, directory)
    files = {"configure.ac": CONFIGURE_AC, "Makefile.in": MAKEFILE_IN, "main.c": CONFIGURED_MAIN}
    src = project(tmp_path, files)
    for tool in ("autoconf", "autoheader"):
        assert subprocess.run([tool], cwd=src, capture_output=True).returncode == 0
    files["configure"] = (src / "configure").read_text()
    files["config.h.in"] = (src / "config.h.in").read_text()

    def build(environment) -> tuple[bytes, bytes]:
        tree = project(tmp_path, files)
        (tree / "configure").chmod(0o755)
        done = subprocess.run(["./configure", "CC=gcc"], cwd=tree, env=environment, capture_output=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        done = subprocess.run(["make"], cwd=tree, env=environment, capture_output=True)
        assert done.returncode == 0, done.stderr
        return (tree / "config.h").read_bytes(), subprocess.run([str(tree / "app")], capture_output=True).stdout

    plain = build(zc.env)
    assert plain[1] == b"configured right\n" and b"#define HAVE_PRINTF 1" in plain[0]
    assert build(env) == plain
    first = zc.stats()
    assert first["misses"] > 0
    zc.zero()
    assert build(env) == plain
    stats = zc.stats()
    assert stats["misses"] == 0 and stats["hits"] == first["misses"], stats
