"""Compressed storage: zstd by default, old entries still read, ccache's -x and -X,
and every hit the compiler's bytes whatever the level."""

from __future__ import annotations

import json
from pathlib import Path

from support import incompressible, write

SOURCE = "".join(f"int f{i}(int x) {{ return x * {i} + {i % 7}; }}\n" for i in range(300))


def compile_ok(zc, cwd: Path, env=None, source: str = "a.c") -> bytes:
    done = zc.run("gcc", "-c", source, "-o", "a.o", cwd=cwd, env=env)
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    return (cwd / "a.o").read_bytes()


def store(zc, env=None) -> dict:
    return json.loads(zc.run("stats", "--json", cwd="/", env=env).stdout)["store"]


def test_results_and_manifests_are_stored_compressed_and_hit_byte_identical(zc, tmp_path):
    write(tmp_path / "a.c", SOURCE)
    plain = zc.plain("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path)
    assert plain.returncode == 0
    expected = (tmp_path / "a.o").read_bytes()
    assert compile_ok(zc, tmp_path) == expected
    assert compile_ok(zc, tmp_path) == expected
    s = zc.stats()
    assert (s["hits"], s["misses"]) == (1, 1)
    parts = s["store"]
    compiles, manifests = parts["compiles"], parts["manifests"]
    assert compiles["compressed"] == compiles["entries"] == 1 and manifests["compressed"] == 1
    assert compiles["original"] > 3 * compiles["stored"]  # an object of 300 small functions: zstd's level 1 does that
    shown = zc.run("-x", cwd=tmp_path).stdout.decode()
    assert "Compression: zstd level 1 (the default)" in shown and "compiles" in shown and "manifests" in shown


def test_entries_written_uncompressed_stay_readable_and_x_recompresses_them(zc, tmp_path):
    write(tmp_path / "a.c", SOURCE)
    write(tmp_path / "t.c", incompressible())
    off = {"ZCCACHE_COMPRESSION": "0"}
    objects = {src: compile_ok(zc, tmp_path, off, src) for src in ("a.c", "t.c")}
    assert store(zc, off)["compiles"]["compressed"] == 0
    zc.run("stop", cwd=tmp_path, env=off)
    zc.zero()
    for src, obj in objects.items():  # an older cache: read as it is
        assert compile_ok(zc, tmp_path, source=src) == obj
    assert zc.stats()["hits"] == 2
    done = zc.run("-X", "5", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(b"Recompressed "), done.stderr
    assert (zc.cache_dir / "zccache.conf").read_text() == "ZCCACHE_COMPRESSION = 1\nZCCACHE_COMPRESSION_LEVEL = 5\n"
    parts = store(zc)
    # the table of random constants does not get smaller: it stays plain, so a hit never pays to decompress it
    assert parts["compiles"]["compressed"] == 1 and parts["manifests"]["compressed"] == 2
    for src, obj in objects.items():
        assert compile_ok(zc, tmp_path, source=src) == obj
    done = zc.run("--threads", "1", "-X", "uncompressed", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert store(zc)["compiles"]["compressed"] == 0
    for src, obj in objects.items():
        assert compile_ok(zc, tmp_path, source=src) == obj
    assert zc.stats()["hits"] == 6 and zc.stats()["misses"] == 0


def test_negative_and_high_levels_hit_and_bad_levels_are_said(zc, tmp_path):
    write(tmp_path / "a.c", SOURCE)
    expected = None
    for level in ("-5", "19"):
        env = {"ZCCACHE_COMPRESSION_LEVEL": level}
        zc.run("-C", cwd=tmp_path, env=env)
        first = compile_ok(zc, tmp_path, env)
        assert compile_ok(zc, tmp_path, env) == first
        expected = expected or first
        assert first == expected
    done = zc.run("gcc", "-c", "a.c", "-o", "a.o", cwd=tmp_path, env={"ZCCACHE_COMPRESSION_LEVEL": "max"})
    assert done.returncode == 0
    assert done.stderr == (b"zccache: ZCCACHE_COMPRESSION_LEVEL='max' is not a zstd level from -131072 to 22 "
                           b"(0: the default level); using 0\n")


LINK_STEPS = [["ar", "qc", "libtu.a", "t.o", "u.o"], ["ranlib", "libtu.a"], ["gcc", "main.o", "libtu.a", "-o", "app"]]


def link_steps(zc, cwd: Path, env=None, plain: bool = False) -> list[bytes]:
    """CMake's archive rule and a link: the outputs, after each step."""
    (cwd / "libtu.a").unlink(missing_ok=True)
    out = []
    for argv in LINK_STEPS:
        done = (zc.plain(*argv, cwd=cwd) if plain else zc.run(*argv, cwd=cwd, env=env))
        assert done.returncode == 0 and done.stderr == b"", done.stderr
        out.append((cwd / argv[argv.index("-o") + 1 if "-o" in argv else -1]).read_bytes())
    return out


def test_links_and_archives_are_stored_as_deltas_against_their_inputs(zc, tmp_path):
    for name in ("t", "u"):  # objects zstd alone cannot shrink: only their reuse can
        write(tmp_path / f"{name}.c", incompressible(name))
    write(tmp_path / "main.c", "int t_at(int);\nint u_at(int);\nint main(void) { return t_at(3) == u_at(3) ? 1 : 0; }\n")
    for name in ("t", "u", "main"):
        assert zc.run("gcc", "-c", f"{name}.c", cwd=tmp_path).returncode == 0
    first = link_steps(zc, tmp_path)
    second = link_steps(zc, tmp_path)
    assert second == first == link_steps(zc, tmp_path, plain=True)
    assert zc.stats()["links"]["hits"] == 3
    kind = store(zc)["links and archives"]
    whole = sum(len(b) for b in first)
    assert kind["entries"] == 3 and whole > 250_000
    assert kind["stored"] < whole / 20, kind  # plain zstd: about as large as the outputs
    # stored as they are when the store does not compress
    off = {"ZCCACHE_COMPRESSION": "0"}
    zc.run("-C", cwd=tmp_path, env=off)
    assert link_steps(zc, tmp_path, off) == first
    assert store(zc, off)["links and archives"]["stored"] > whole
    assert link_steps(zc, tmp_path, off) == first
