"""The Spanish catalogue: the compiled file shipped is the one its source says, and every message is translated."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import mibg.web

LOCALE = Path(mibg.web.__file__).with_name("locale") / "es" / "LC_MESSAGES"


def _po_entries(text: str) -> dict[str, list[str]]:
    """msgid (singular) -> its msgstr forms, read from a .po file (enough of the format for our catalogue)."""
    entries: dict[str, list[str]] = {}
    current: dict[str, str] = {}
    key = ""

    def flush() -> None:
        if current.get("msgid"):
            forms = [v for k, v in sorted(current.items()) if k.startswith("msgstr")]
            entries[current["msgid"]] = forms

    for line in [*text.splitlines(), ""]:
        line = line.strip()
        if not line or line.startswith("#"):
            if current and not line:
                flush()
                current = {}
            continue
        if line.startswith('"'):
            current[key] += ast.literal_eval(line)
            continue
        key, _, rest = line.partition(" ")
        current[key] = ast.literal_eval(rest)
    return entries


def test_every_spanish_message_has_a_translation_and_the_compiled_catalogue_matches_its_source() -> None:
    entries = _po_entries((LOCALE / "django.po").read_text(encoding="utf-8"))
    assert len(entries) >= 40
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, forms in entries.items():
        assert forms, msgid
        assert all(form.strip() for form in forms), f"untranslated: {msgid!r}"
        assert compiled.gettext(msgid) == forms[0], f"django.mo is stale for {msgid!r}: run msgfmt"


def test_placeholders_survive_translation() -> None:
    import re

    for msgid, forms in _po_entries((LOCALE / "django.po").read_text(encoding="utf-8")).items():
        wanted = set(re.findall(r"%\(\w+\)s", msgid))
        for form in forms:
            assert set(re.findall(r"%\(\w+\)s", form)) == wanted, msgid
            assert form.count("<strong>") == form.count("</strong>") == msgid.count("<strong>"), msgid
