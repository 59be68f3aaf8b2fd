"""zccache: a local-first compiler cache built as a plugin suite."""

from zccache_wire import __version__  # one place for it: the bottom layer, which imports nothing of ours

__all__ = ["__version__"]
