"""Adapters: everything that talks to the outside world (HTTP APIs, files, the database)."""
