"""The Spanish catalogue: the compiled file shipped is the one its source says, and every message of the family's
written instructions and release sheet is translated. The rest of the interface is marked for translation and in
the catalogue with an empty msgstr (issue 15: Spanish is shipped for the family's sheet only), so it shows in English."""

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


#: The sources whose every message is shipped in Spanish: the family's written instructions (the release sheet).
SHIPPED_IN_SPANISH = ("radiation/family_sheet.py",)


def _po_sources(text: str) -> dict[str, set[str]]:
    """msgid -> the files its ``#:`` references name."""
    sources: dict[str, set[str]] = {}
    files: set[str] = set()
    for block in text.split("\n\n"):
        files = {ref.rsplit(":", 1)[0] for line in block.splitlines() if line.startswith("#:") for ref in line[2:].split()}
        entries = _po_entries(block)
        for msgid in entries:
            sources[msgid] = files
    return sources


def test_every_message_of_the_family_sheet_has_a_spanish_translation_and_the_compiled_catalogue_matches() -> None:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = _po_entries(text)
    sources = _po_sources(text)
    shipped = {msgid for msgid, files in sources.items() if files & set(SHIPPED_IN_SPANISH)}
    assert len(shipped) >= 40
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, forms in entries.items():
        assert forms, msgid
        if msgid in shipped:
            assert all(form.strip() for form in forms), f"untranslated: {msgid!r}"
        if forms[0]:
            assert compiled.gettext(msgid) == forms[0], f"django.mo is stale for {msgid!r}: run msgfmt"


def test_placeholders_survive_translation() -> None:
    import re

    for msgid, forms in _po_entries((LOCALE / "django.po").read_text(encoding="utf-8")).items():
        wanted = set(re.findall(r"%\(\w+\)s", msgid))
        for form in filter(None, forms):
            assert set(re.findall(r"%\(\w+\)s", form)) == wanted, msgid
            assert form.count("<strong>") == form.count("</strong>") == msgid.count("<strong>"), msgid
