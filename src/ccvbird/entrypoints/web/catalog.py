"""The message catalog: every translatable string of the web app, and the Dutch for it.

``python -m ccvbird.entrypoints.web.catalog`` extracts the strings from the templates and the
web app's Python modules (and the engine's reasons, ``domain/reasons.py``) and updates
``locale/nl/LC_MESSAGES/messages.po``: new strings are added untranslated, strings no longer
used are dropped, translations are kept. A test fails while any string lacks its Dutch.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from ccvbird.domain.reasons import MESSAGES

HERE = Path(__file__).parent
PO = HERE / "locale" / "nl" / "LC_MESSAGES" / "messages.po"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {
    "**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                             "lstrip_blocks": "true"},
    "**.py": {},
}  # fmt: skip
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "marked": None}


def extracted() -> Catalog:
    """Every string the web app translates (msgids), with where it is used."""
    catalog = Catalog(project="ccvbird", locale="nl")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(HERE),
        METHODS,
        OPTIONS,
        KEYWORDS,
    ):
        if filename.endswith("catalog.py"):
            continue
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments,
                    context=context)  # fmt: skip
    # The engine's reasons: their English is the msgid (``domain/reasons.py``).
    for code, text in MESSAGES.items():
        catalog.add(text, locations=[("domain/reasons.py", 0)], auto_comments=[code])
    return catalog


def dutch() -> Catalog:
    with PO.open("rb") as handle:
        return read_po(handle, locale="nl")


def untranslated() -> list[str]:
    """The strings without a Dutch translation (empty, fuzzy, or missing from the catalog)."""
    known = dutch()
    missing = []
    for message in extracted():
        if not message.id:
            continue
        found = known.get(message.id)
        if (
            found is None
            or found.fuzzy
            or not (all(found.string) if isinstance(found.string, tuple) else found.string)
        ):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update() -> None:
    template = extracted()
    catalog = dutch() if PO.exists() else Catalog(project="ccvbird", locale="nl", fuzzy=False)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.fuzzy = False
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, ignore_obsolete=True,
                 include_lineno=False)  # fmt: skip


if __name__ == "__main__":
    update()
    print(f"{PO}: {len(untranslated())} string(s) without Dutch")
