"""The cache core: knows nothing about any build system."""
