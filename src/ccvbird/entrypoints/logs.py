"""How a serving process logs: lines for people, or JSON lines for a log collector.

``CCVBIRD_LOG_FORMAT=json`` renders every log record of the process — ccvbird's, Huey's,
uvicorn's — as one JSON object a line through structlog's ``ProcessorFormatter``: ``timestamp``
(UTC, ISO 8601), ``level``, ``logger``, ``message``, ``exception`` (a traceback, when there is
one) and the context the code bound: ``connection_id`` and ``order_id`` while an order is booked
(``SyncEngine.sync_order`` and the worker's task bind them). The default stays the plain text
lines. What ccvbird logs never holds a secret or a customer's address (tests/web/test_secrets.py
checks both formats): the messages name orders by id and number, requests by route template.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

import structlog
from uvicorn.config import LOGGING_CONFIG

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def json_formatter() -> logging.Formatter:
    """The formatter of ``CCVBIRD_LOG_FORMAT=json``: one JSON object per record."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
    )


def configure_logging(
    log_format: str, *, level: int = logging.INFO, stream: IO[str] | None = None
) -> None:
    """Give the process's root logger one handler in ``log_format`` ("text" or "json"),
    replacing any it had (a serving command calls this first)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def uvicorn_log_config(log_format: str) -> dict[str, Any] | None:
    """uvicorn's logging configuration: its own for text; none for JSON, so that its records
    reach the root handler and are JSON lines like every other."""
    return None if log_format == "json" else LOGGING_CONFIG
