"""Dutch by default, English selectable: gettext catalogs (Babel) for pages and messages.

English is the source language (the msgids); ``locale/nl/LC_MESSAGES/messages.po`` holds the
Dutch. The catalog is compiled in memory when the web app starts, so there is no build step and
no compiled file to forget. The language of the current request lives in a context variable:
templates and Python code call the same ``_``.
"""

from __future__ import annotations

import contextvars
import gettext as stdlib_gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = {"nl": "Nederlands", "en": "English"}
DEFAULT_LANGUAGE = "nl"
LOCALE_DIR = Path(__file__).parent / "locale"

_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "ccvbird_language", default=DEFAULT_LANGUAGE
)


@cache
def translations(language: str) -> stdlib_gettext.NullTranslations:
    """The compiled catalog of ``language`` (English: the msgids themselves)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not po.exists():
        return stdlib_gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def set_language(language: str) -> contextvars.Token[str]:
    return _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _language.get()


def gettext(message: str, **values: object) -> str:
    """The message in the current language, with ``%(name)s`` placeholders filled in."""
    text = translations(current_language()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


_ = gettext


def choose(requested: str | None, account_language: str | None) -> str:
    for candidate in (requested, account_language):
        if candidate in LANGUAGES:
            return str(candidate)
    return DEFAULT_LANGUAGE
