"""A setuptools ``build_ext`` whose compiles run through the zccache engine in process."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading

from setuptools.command.build_ext import build_ext as _build_ext

_emit_lock = threading.Lock()


class build_ext(_build_ext):  # noqa: N801 - the name setuptools users expect
    """Drop-in for setuptools' build_ext. Links are left to setuptools; so is every
    compile the cache would not take. ZCCACHE_DISABLE=1 turns it off."""

    def build_extensions(self) -> None:
        from zccache_wire import switch

        if not switch(os.environ, "ZCCACHE_DISABLE", False):
            _wrap(self.compiler)
        super().build_extensions()


def _log_command(cmd) -> None:
    try:
        from distutils._log import log
    except ImportError:  # older distutils
        from distutils import log  # type: ignore[no-redef]
    log.info(subprocess.list2cmdline([str(c) for c in cmd]))


def _wrap(compiler) -> None:
    """Wrap the compiler's way of running a command: ``call`` in current setuptools
    (it raises CalledProcessError), ``spawn`` in older ones (DistutilsExecError)."""
    from zccache.core.inprocess import InProcessCache, emit

    method = "call" if hasattr(compiler, "call") else "spawn"
    original = getattr(compiler, method)
    if getattr(original, "_zccache", False):
        return
    # pip builds sdists in randomly named temporary directories: map those to stable
    # names, as `zccache pip` does (only random-looking directories are touched).
    cache = InProcessCache.shared({"ZCCACHE_REMAP_TEMP": os.environ.get("ZCCACHE_REMAP_TEMP") or tempfile.gettempdir()})

    def run(cmd, **kwargs):
        env = kwargs.get("env") or os.environ
        done = cache.run([str(c) for c in cmd], os.getcwd(), env)
        if done is None:
            return original(cmd, **kwargs)
        with _emit_lock:
            _log_command(cmd)
            emit(done.stdout, done.stderr)
        if done.returncode != 0:
            if method == "call":
                raise subprocess.CalledProcessError(done.returncode, cmd)
            from distutils.errors import DistutilsExecError

            raise DistutilsExecError(f"command {str(cmd[0])!r} failed with exit code {done.returncode}")
        return None

    run._zccache = True  # type: ignore[attr-defined]
    setattr(compiler, method, run)
