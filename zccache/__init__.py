"""zccache: a local-first compiler cache built as a plugin suite."""

from zccache_client import __version__  # one place for it: the client has no imports

__all__ = ["__version__"]
