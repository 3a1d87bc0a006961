"""Command groups. Each module has `register(sub, add)`; `add` (main.add_command) makes a
subparser with the common options (--json, --profile) and binds its function."""
