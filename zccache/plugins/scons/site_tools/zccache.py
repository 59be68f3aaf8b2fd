"""The zccache SCons tool, for ``env.Tool('zccache', toolpath=[...])``."""

from zccache.plugins.scons.tool import exists, generate  # noqa: F401
