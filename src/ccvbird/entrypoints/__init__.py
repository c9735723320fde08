"""Entrypoints: the CLI (and later the web app and workers). They go through bootstrap."""
