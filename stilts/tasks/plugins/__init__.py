"""Built-in tasks. They register through the ``stilts.tasks`` entry points in pyproject.toml,
exactly as a third-party plugin package does."""
