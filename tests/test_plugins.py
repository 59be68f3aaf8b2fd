"""The hook contract, used the way a third party would: an entry-point plugin that
brings a tool family of its own, run through the same engine and store."""

from __future__ import annotations

import os
import stat
import sys
import textwrap

from support import write

TOY_PLUGIN = textwrap.dedent(
    '''
    """A tool family for 'toycc': upper-cases its input file into its output file."""
    import os
    from zccache.core.hookspecs import hookimpl
    from zccache.core.invocation import Invocation, RunResult, SearchPath
    from zccache.core.process import run_tool


    class Toy:
        name = "toy"

        def describe_tool(self, tool, env):
            return b"toy 1.0"

        def execute(self, inv):
            rc, out, err = run_tool(inv.command, inv.cwd, inv.env)
            return RunResult(rc, out, err, inputs=[])

        def search_dirs(self, inv, memo):
            return SearchPath(order=[], system=[])

        def preprocess(self, inv):
            raise AssertionError("toy has no preprocessor")


    @hookimpl
    def zccache_classify(argv, cwd, env):
        if os.path.basename(argv[0]) != "toycc":
            return None
        src, out = argv[1], argv[2]
        return Invocation(family=Toy(), tool=argv[0], args=argv[1:], cwd=cwd, env=env,
                          key_args=[src], sources=[src], outputs={"out": out}, can_preprocess=False)


    @hookimpl
    def zccache_key_extras(invocation):
        return invocation.env.get("TOY_FLAVOUR", "").encode() or None
    '''
)

TOYCC = f"""#!{sys.executable}
import sys
with open(sys.argv[3] if len(sys.argv) > 3 else "/dev/null", "a") as log:
    log.write("ran\\n")
data = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(data.upper())
print("toycc: done")
"""


def test_entry_point_plugin_family_is_used(zc, tmp_path):
    site = tmp_path / "site"
    write(site / "toy_zccache.py", TOY_PLUGIN)
    write(site / "toy_zccache-1.0.dist-info" / "METADATA", "Metadata-Version: 2.1\nName: toy-zccache\nVersion: 1.0\n")
    write(site / "toy_zccache-1.0.dist-info" / "entry_points.txt", "[zccache]\ntoy = toy_zccache\n")
    toycc = write(tmp_path / "bin" / "toycc", TOYCC)
    toycc.chmod(toycc.stat().st_mode | stat.S_IEXEC)
    write(tmp_path / "in.txt", "hello plugin\n")
    env = {"PYTHONPATH": str(site), "PATH": f"{tmp_path / 'bin'}{os.pathsep}{zc.env['PATH']}"}
    log = tmp_path / "ran.log"
    for _ in range(2):
        done = zc.run("toycc", "in.txt", "out.txt", str(log), cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout == b"toycc: done\n"
        assert (tmp_path / "out.txt").read_text() == "HELLO PLUGIN\n"
        (tmp_path / "out.txt").unlink()
    assert log.read_text() == "ran\n"  # the second run came from the cache
    stats = zc.stats()
    assert (stats["misses"], stats["hits"]) == (1, 1)
    # key_extras from the plugin: a different flavour misses
    assert zc.run("toycc", "in.txt", "out.txt", str(log), cwd=tmp_path, env={**env, "TOY_FLAVOUR": "x"}).returncode == 0
    assert log.read_text() == "ran\nran\n"
    write(tmp_path / "in.txt", "changed\n")
    assert zc.run("toycc", "in.txt", "out.txt", str(log), cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "out.txt").read_text() == "CHANGED\n"
