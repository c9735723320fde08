"""The web app: App Store install, Moneybird connect, profile, dashboard, webhooks.

FastAPI with server-rendered Jinja2 pages, in Dutch (default) and English. ``create_web_app``
is what ``ccvbird run`` and ``ccvbird web`` serve; docs/web.md describes the pages.
"""

from ccvbird.entrypoints.web.factory import create_web_app

__all__ = ["create_web_app"]
