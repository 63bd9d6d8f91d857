"""End-to-end tests: the real bot process against the local fake Discord (`tests/fakediscord`)."""
