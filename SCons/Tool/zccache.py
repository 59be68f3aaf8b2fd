"""Installed by pyzccache so that SCons finds ``env.Tool('zccache')`` by itself."""

from zccache.plugins.scons.tool import exists, generate  # noqa: F401
