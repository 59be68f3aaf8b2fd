"""setuptools adapter: a cached ``build_ext``, and ``zccache pip`` / ``zccache python``.

- ``cmdclass={"build_ext": zccache.plugins.setuptools.build_ext}`` (with this project
  in the package's ``[build-system] requires``) routes every extension compile
  through the engine inside the build process, ``--parallel`` included.
- ``zccache pip install ./pkg`` (and ``zccache python -m build``) needs nothing from
  the package: every compiler the build starts goes through zccache, inside build
  isolation too (see pip.py).

``build_ext`` is loaded lazily so that importing this plugin (which every zccache
run does, for its commands) never imports setuptools.
"""

from __future__ import annotations

import argparse

from zccache.core.hookspecs import hookimpl

__all__ = ["build_ext"]


def __getattr__(name: str):
    if name == "build_ext":
        from zccache.plugins.setuptools._build_ext import build_ext

        return build_ext
    raise AttributeError(name)


@hookimpl
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    for name, what in (("pip", "pip"), ("python", "python (e.g. python -m build)")):
        parser = subparsers.add_parser(
            name, add_help=False, prefix_chars="\0",
            help=f"run {what} with every compile of the builds it starts cached (build isolation included)",
        )
        parser.add_argument("rest", nargs=argparse.REMAINDER)
        parser.set_defaults(func=lambda ns, name=name: _run(name, ns.rest))


def _run(name: str, rest: list[str]) -> int:
    from zccache.plugins.setuptools.pip import run_wrapped

    return run_wrapped([name, *rest])
