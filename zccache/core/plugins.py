"""The plugin manager: built-in plugins first, then the entry-point group "zccache".

Built-ins are plain hook-implementing modules, registered exactly as a third-party
plugin found through its entry point would be.
"""

from __future__ import annotations

import importlib
import sys

import pluggy

from zccache.core import hookspecs

BUILTINS = (
    "zccache.core.toolchains.gcc",
    "zccache.plugins.cmake",
)


def make_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("zccache")
    pm.add_hookspecs(hookspecs)
    for name in BUILTINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entry_points:
        try:
            pm.load_setuptools_entrypoints("zccache")
        except Exception as exc:  # a broken third-party plugin must not break builds
            sys.stderr.write(f"zccache: plugin failed to load: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}\n")
    return pm
