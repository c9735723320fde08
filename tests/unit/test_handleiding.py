"""docs/handleiding.md shows what exists: every picture is one the browser test photographs
(in Dutch), and every button it tells the owner to click is a Dutch word of the web app.

The pictures are renewed with ``CCVBIRD_SCREENSHOTS=/tmp/shots ./run-tests tests/browser`` and
copying ``/tmp/shots/nl/<name>.png`` to ``docs/screenshots/``.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "handleiding.md"
JOURNEY = ROOT / "tests" / "browser" / "test_journey.py"
CATALOG = ROOT / "src/ccvbird/entrypoints/web/locale/nl/LC_MESSAGES/messages.po"
#: Words of other programs the guide quotes (CCV's App Store, Moneybird's consent page).
ELSEWHERE = {"Installeren", "Toegang verlenen"}


def photographed() -> set[str]:
    """The names the browser test photographs in Dutch (``both(page, name)``, ``shoot(page,
    "nl", name)``)."""
    source = JOURNEY.read_text(encoding="utf-8")
    names = set(re.findall(r'\bboth\(\s*\w+,\s*"([a-z0-9-]+)"', source))
    names |= set(re.findall(r'\bshoot\(\s*\w+,\s*"nl",\s*"([a-z0-9-]+)"', source))
    return names


def test_every_picture_is_one_the_browser_test_takes_and_is_there() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(screenshots/([a-z0-9-]+)\.png\)", GUIDE.read_text())
    assert pictures, "the guide shows the pages it describes"
    taken = photographed()
    assert "dashboard" in taken  # the pattern above still finds the test's pictures
    for name in pictures:
        assert name in taken, f"{name}.png is not a picture the browser test takes"
        assert (ROOT / "docs" / "screenshots" / f"{name}.png").is_file(), name


def test_every_button_the_guide_names_is_a_word_of_the_app() -> None:
    with CATALOG.open("rb") as handle:
        dutch = {str(m.string) for m in read_po(handle, locale="nl") if m.id and m.string}
    text = re.sub(r"\s+", " ", GUIDE.read_text())
    buttons = set(re.findall(r"[Kk]lik(?: \w+)? op \*\*([^*]+)\*\*", text))
    buttons |= set(re.findall(r"\*\*([^*]+)\*\* \(dat is", text))
    assert len(buttons) >= 5  # the pattern still finds the guide's buttons
    missing = sorted(b for b in buttons - ELSEWHERE if b not in dutch)
    assert missing == [], missing


def test_the_readme_links_the_guide() -> None:
    assert "docs/handleiding.md" in (ROOT / "README.md").read_text()
