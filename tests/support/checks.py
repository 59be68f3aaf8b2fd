"""Comparisons with the plain compiler: zccache's run must give its exit code, its
streams and its files, byte for byte."""

from __future__ import annotations

from pathlib import Path

from support import no_traceback, write


def outputs_of(cwd: Path, names: list[str]) -> dict[str, bytes]:
    return {n: (cwd / n).read_bytes() for n in names}


def remove(cwd: Path, names: list[str]) -> None:
    for n in names:
        (cwd / n).unlink(missing_ok=True)


def checked(zc, cwd: Path, compiler: str, args: list[str], outputs: list[str], env=None,
            appended: dict[str, str] | None = None) -> None:
    """zccache's run gives the plain compiler's exit code, streams and files; the
    files in appended hold the given text before each run (the compiler adds to them)."""
    appended = appended or {}
    for name, text in appended.items():
        write(cwd / name, text)
    plain = zc.plain(compiler, *args, cwd=cwd, env=env)
    assert plain.returncode == 0, plain.stderr
    expected = {name: (cwd / name).read_bytes() for name in outputs}
    for name in outputs:
        (cwd / name).unlink()
    for name, text in appended.items():
        write(cwd / name, text)
    done = zc.run(compiler, *args, cwd=cwd, env=env)
    no_traceback(done)
    assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert {name: (cwd / name).read_bytes() for name in outputs} == expected


def same_as_plain(zc, cwd: Path, args: list[str], outputs: list[str], env=None, compiler=None, deterministic=True) -> str:
    """Compile plainly, through zccache twice; return the mode of the second run.

    For compiles that gcc itself does not reproduce (coverage stamps come from the
    clock), the hit must give back exactly what the miss produced."""
    compiler = compiler or zc.cc
    plain = zc.plain(compiler, *args, cwd=cwd, env=env)
    assert plain.returncode == 0, plain.stderr
    expected = outputs_of(cwd, outputs)
    remove(cwd, outputs)
    before = zc.stats()
    kinds = []
    for _ in range(2):
        done = zc.run(compiler, *args, cwd=cwd, env=env)
        no_traceback(done)
        assert (done.returncode, done.stdout, done.stderr) == (plain.returncode, plain.stdout, plain.stderr)
        if not deterministic and not kinds:
            expected = outputs_of(cwd, outputs)
        assert outputs_of(cwd, outputs) == expected
        after = zc.stats()
        kinds.append("hit" if after["hits"] > before["hits"] else "miss" if after["misses"] > before["misses"] else "other")
        before = after
        remove(cwd, outputs)
    assert kinds[0] == "miss", kinds
    return kinds[1]
