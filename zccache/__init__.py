"""zccache: a local-first compiler cache built as a plugin suite."""

__version__ = "0.1.0"
