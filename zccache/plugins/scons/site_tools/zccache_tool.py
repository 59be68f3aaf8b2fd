"""The zccache SCons tool under a name of its own, for
``env.Tool('zccache_tool', toolpath=[zccache.plugins.scons.TOOLPATH])``: SCons would
register a toolpath module called ``zccache`` as the top-level module ``zccache``,
shadowing the package."""

from zccache.plugins.scons.tool import exists, generate  # noqa: F401
