"""Built-in tool families, each a plugin of the core."""
