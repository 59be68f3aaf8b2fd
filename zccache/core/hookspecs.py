"""The hook contract between the cache core and its plugins.

Tool families (gcc/clang, and whatever a third party adds) and build-system adapters
are all plugins of the core, and they all speak through these hooks; the built-in ones
are registered exactly as an entry-point plugin of the group ``zccache`` would be.

A plugin is any module or object with functions named like the specs below and marked
with :data:`hookimpl`::

    from zccache.core.hookspecs import hookimpl

    @hookimpl
    def zccache_classify(argv, cwd, env):
        ...
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from zccache.core.config import Config
    from zccache.core.invocation import Invocation, Outcome, Passthrough
    from zccache.core.tiers import Tier

hookspec = pluggy.HookspecMarker("zccache")
hookimpl = pluggy.HookimplMarker("zccache")


@hookspec(firstresult=True)
def zccache_classify(argv: list[str], cwd: str, env: Mapping[str, str]) -> Invocation | Passthrough | None:
    """Recognise one tool run and say whether it can be cached.

    ``argv[0]`` is the tool as the user named it (``gcc``, ``/usr/bin/c++``,
    ``clang-16`` ...), the rest its arguments, unexpanded.

    Return ``None`` when the tool is not yours, so the next family is asked.
    Return a :class:`~zccache.core.invocation.Passthrough` when it is yours but this
    run must not be cached (linking, ``-E``, stdin input ...): its ``reason`` is
    counted in the statistics, so make it short and stable. Return an
    :class:`~zccache.core.invocation.Invocation` when the run is cacheable; its
    ``family`` then does the tool-specific work for the engine.

    Stops at the first non-``None`` result. Must not run the tool or write anything,
    and must read ``env`` and ``cwd`` rather than the process's own (see key_extras).

    Say ``None`` from the command alone (its words, ``cwd``, ``env``, and the files
    its ``@`` arguments name): the daemon keeps an Invocation whose family has a
    ``still(invocation) -> bool`` and serves the same command again from it, without
    asking the families again, while ``still`` says that what the classification
    read besides the command is unchanged (core/plans.py).
    """


@hookspec
def zccache_key_extras(invocation: Invocation) -> bytes | None:
    """Return extra bytes that must be part of this invocation's cache key.

    For state the family does not know about: an environment variable a wrapper
    reads, the content of a plugin's configuration file. Every non-``None`` answer
    is hashed into the key, in plugin registration order. Returning different bytes
    for the same compile makes it miss; it can never make a wrong hit.

    Read the environment from ``invocation.env``, never ``os.environ``: a daemon
    serves many clients, each with its own environment.
    """


@hookspec
def zccache_on_result(invocation: Invocation | None, outcome: Outcome) -> None:
    """Observe the outcome of one tool run: hit, miss, passthrough or error.

    Called after the outputs are in place and before the exit code is returned.
    ``invocation`` is ``None`` for passthroughs decided before classification.
    Observers must be cheap and must not raise; an exception here is reported as one
    warning line and never fails the build.
    """


@hookspec
def zccache_storage_tiers(config: Config) -> list[Tier] | None:
    """Remote tiers for this configuration, asked after the local store, in the
    order the implementations answer (a list each; None or [] for none).

    The built-in implementation (core/tiers/opendal_tier.py) answers for
    ``ZCCACHE_REMOTE``; a plugin adds a store of its own by returning an object with
    ``name``, ``get(key) -> bytes | None`` and ``put(key, value)``. Values come back
    sealed by the caller and are checked before use: a tier only moves bytes.
    Raising ``ConfigError`` reports a bad setting; the build goes on without it.
    """


@hookspec
def zccache_add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add sub-commands to the ``zccache`` command line.

    Add a parser with ``subparsers.add_parser(name, help=...)`` and set its
    ``func`` default to a callable taking the parsed ``argparse.Namespace`` and
    returning an exit code. Names of compilers (``gcc``, ``cc`` ...) must not be used.
    """
