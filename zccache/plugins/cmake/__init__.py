"""CMake adapter: the compiler-launcher variables, and a module that sets them.

CMake runs ``<launcher> <compiler> <args>`` for every compile when
``CMAKE_<LANG>_COMPILER_LAUNCHER`` is set, and for every link with
``CMAKE_<LANG>_LINKER_LAUNCHER`` (3.21+), so the launcher path is all CMake
needs; links are passed through and counted. The module ``zccache.cmake`` in this
directory sets both for every enabled language when zccache is on PATH and the user
has not chosen a launcher already.
"""

from __future__ import annotations

import argparse
import os

from zccache.core.hookspecs import hookimpl

MODULE_DIR = os.path.dirname(os.path.abspath(__file__))


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cmake-module-dir",
        help="print the directory of zccache.cmake (add it to CMAKE_MODULE_PATH, then include(zccache))",
    )
    parser.set_defaults(func=_print_module_dir)


def _print_module_dir(ns: argparse.Namespace) -> int:
    print(MODULE_DIR)
    return 0
