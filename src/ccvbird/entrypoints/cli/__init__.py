"""The ``ccvbird`` command line.

Every command goes through bootstrap for its adapters and through a service for its work. Errors
ccvbird expects (a malformed order, an invalid profile, refused credentials) end the command with
exit status 2 and a message in words, never a traceback.
"""

from __future__ import annotations

from ccvbird.entrypoints.cli import preview as preview  # registers `ccvbird preview`
from ccvbird.entrypoints.cli import web as web  # registers `ccvbird web`
from ccvbird.entrypoints.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()
