"""Subcommands of the kws CLI (see kws.cli)."""
