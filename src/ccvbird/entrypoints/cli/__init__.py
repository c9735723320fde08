"""The ``ccvbird`` command line.

Every command goes through bootstrap for its adapters and through a service for its work. Errors
ccvbird expects (a malformed order, an invalid profile, refused credentials) end the command with
exit status 2 and a message in words, never a traceback.
"""

from __future__ import annotations

# Importing a module registers its commands on the app.
from ccvbird.entrypoints.cli import credits as credits
from ccvbird.entrypoints.cli import demo as demo
from ccvbird.entrypoints.cli import operate as operate
from ccvbird.entrypoints.cli import preview as preview
from ccvbird.entrypoints.cli import setup as setup
from ccvbird.entrypoints.cli import web as web
from ccvbird.entrypoints.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()
