"""Every reason the engine can record is worded in Dutch and English, from its code and facts.

The codes are read from the engine's source (every ``Reason("code", …)``, every part a reason
names, every mapping problem), so a new reason without its entry in ``domain/reasons.py`` — or
without Dutch — fails here rather than showing an English sentence on a Dutch page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

import ccvbird
from ccvbird.domain import figures, references
from ccvbird.domain.mapping import ProblemCode
from ccvbird.domain.reasons import MESSAGES, Reason, is_date, is_field, is_money
from ccvbird.domain.reasons import placeholders as names_in
from ccvbird.entrypoints.web import i18n
from ccvbird.entrypoints.web.reasons import event_words, pause_words, record_words, words
from ccvbird.service import sync

SOURCE = Path(ccvbird.__file__).parent
LITERAL = re.compile(r"Reason\(\s*\"([a-z_.]+)\"")
NAMED = re.compile(r"Reason\(\s*([A-Z_]+)[,)]")
PART = re.compile(r"_part(?:\"\s*:\s*|=)\"([a-z_.]+)\"")
PAUSE_CODE = re.compile(r"\bcode = \"([a-z_]+)\"")
#: Words a Dutch sentence does not have (ccvbird's Dutch keeps no English word of these).
ENGLISH = {"the", "order", "invoice", "booked", "paid", "this", "with", "which", "retry",
           "when", "not", "and", "is not", "its", "been", "once"}  # fmt: skip


def engine_codes() -> set[str]:
    found = {code.value for code in ProblemCode}
    for folder in ("service", "domain", "wiring", "entrypoints", "adapters"):
        for path in (SOURCE / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found.update(LITERAL.findall(text))
            found.update(PART.findall(text))
            if path.name == "sync.py" and folder == "service":
                found.update(PAUSE_CODE.findall(text))
            for name in NAMED.findall(text):
                for module in (sync, references, figures):
                    if hasattr(module, name):
                        found.add(getattr(module, name))
    return found


def sample(code: str) -> dict[str, str]:
    """Facts for every parameter of the code's message (parts left out: each is rendered on
    its own, as a code of its own)."""
    params = {"currency": "EUR"}
    for name in names_in(MESSAGES[code]):
        if name.endswith("_part"):
            params[name] = ""
        elif is_money(name):
            params[name] = "1234.5"
        elif is_date(name):
            params[name] = "2026-01-05"
        elif is_field(name):
            params[name] = 'tax_rates.platform."0"'
        elif name == "fields":
            params[name] = 'tax_rates.platform."0"|rounding.tolerance'
        else:
            params[name] = "1001"
    return params


@contextmanager
def language(code: str) -> Iterator[None]:
    token = i18n.set_language(code)
    try:
        yield
    finally:
        i18n._language.reset(token)


def test_the_source_scan_sees_the_engines_reasons() -> None:
    codes = engine_codes()
    assert {"keeps_failing", "unmapped_vat_rate", "connection_paused", "changed.amounts"} <= codes
    assert {"event.booked", "paused_by_hand", "moneybird_figures_differ", "prefix.same"} <= codes


def test_every_code_the_engine_can_record_has_a_message() -> None:
    assert sorted(engine_codes() - set(MESSAGES)) == []


def test_a_code_without_a_message_is_caught() -> None:
    """The scan must be able to fail: an unknown code in source text is reported."""
    assert LITERAL.findall('Reason("no_such_reason", {})') == ["no_such_reason"]
    assert "no_such_reason" not in MESSAGES


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_has_dutch_and_no_english_is_left(code: str) -> None:
    template = MESSAGES[code]
    params = sample(code)
    with language("en"):
        in_english = words(code, params, html=False)
    with language("nl"):
        in_dutch = words(code, params, html=False)
    assert 'tax_rates.platform."0"' not in in_english  # named by its label, in English too
    wordless = not re.sub(r"\{[a-z_]+\}", "", template).strip()
    if wordless:
        return
    assert i18n.translations("nl").gettext(template) != template, f"no Dutch for {code}"
    assert in_dutch != in_english
    left = {w for w in ENGLISH if re.search(rf"\b{w}\b", in_dutch.replace("1001", ""))}
    assert left == set(), f"{code}: English words in Dutch: {in_dutch}"


def test_a_profile_key_is_named_by_its_label_and_links_to_the_field() -> None:
    reason = Reason(
        "unmapped_vat_rate", {"vat": "0% platform sale", "field": 'tax_rates.platform."0"'}
    )
    with language("nl"):
        shown = words(reason.code, reason.stored_params(), connection_id=7)
    assert 'href="/connections/7/profile#field-tax_platform"' in shown
    assert "Btw-tarief voor platformverkopen" in shown
    assert 'tax_rates.platform."0"' not in shown


def test_amounts_and_dates_are_written_as_the_reader_writes_them() -> None:
    params = {"invoice": "2026-0001", "currency": "EUR", "total_amount": "1234.5"}
    with language("nl"):
        dutch = words("event.booked", params, html=False)
        day = words("before_start", {"start_date": "2026-01-05"}, html=False)
    with language("en"):
        english_words = words("event.booked", params, html=False)
    assert "€\xa01.234,50" in dutch or "€ 1.234,50" in dutch
    assert "€1,234.50" in english_words
    assert "05-01-2026" in day


def test_several_reasons_at_once_are_all_said() -> None:
    both = Reason("status_not_triggering", {"status": "1 (Nieuw)", "wanted": "7 (Afgerond)"})
    reason = Reason(both.code, both.params, (Reason("not_paid"),))
    with language("nl"):
        shown = words(reason.code, reason.stored_params(), html=False)
    assert "status 1 (Nieuw)" in shown and "nog niet betaald" in shown


def test_a_reason_an_older_version_stored_as_english_only_is_never_english_in_dutch() -> None:
    old = SimpleNamespace(
        reason_code="keeps_failing", reason_params=None, reason="Booking failed 8 times in a row"
    )
    with language("en"):
        assert record_words(old, html=False) == "Booking failed 8 times in a row"
    with language("nl"):
        shown = record_words(old, html=False)
    assert "Booking" not in shown and "oudere versie" in shown
    plain = SimpleNamespace(reason_code="not_paid", reason_params=None, reason="whatever")
    with language("nl"):
        assert record_words(plain, html=False).startswith("De bestelling is nog niet betaald")


def test_an_old_pause_sentence_is_understood_or_said_in_dutch() -> None:
    with language("nl"):
        manual = pause_words("", None, "Paused by hand from the dashboard.", html=False)
        unknown = pause_words("", None, "Something only an old version said.", html=False)
    assert manual == "Met de hand gepauzeerd vanaf het overzicht."
    assert "English" not in unknown and "gepauzeerd" in unknown


def test_an_old_log_line_shows_no_english_on_a_dutch_page() -> None:
    line = SimpleNamespace(code="", params=None, message="invoice 12 booked and paid")
    with language("nl"):
        assert event_words(line) == ""
    with language("en"):
        assert event_words(line) == "invoice 12 booked and paid"
