"""SCons adapter: ``env.Tool('zccache')`` caches every C/C++ compile inside the SCons
process, with no extra Python start per compile.

How SCons finds it: ``env.Tool(name)`` looks in the ``toolpath`` given, then in the
``site_scons/site_tools`` directories, then for a module ``SCons.Tool.<name>``. This
distribution installs a two-line ``SCons/Tool/zccache.py`` that re-exports
:mod:`zccache.plugins.scons.tool`, so after ``pip install`` into the environment
that has SCons, the plain ``env.Tool('zccache')`` works with nothing copied into the
project. Where SCons lives in another environment, the documented alternative is
``env.Tool('zccache_tool', toolpath=[TOOLPATH])`` with ``TOOLPATH`` from this module
(not named ``zccache``: SCons registers a toolpath module under its bare name, which
would shadow this package).
"""

from __future__ import annotations

import os

TOOLPATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "site_tools")
