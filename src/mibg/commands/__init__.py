"""Subcommands of the `mibg` command: thin layers over the core; each parses, calls the core, prints."""
