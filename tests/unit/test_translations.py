"""The Spanish catalogue: the compiled file shipped is the one its source says, and every message of the family's
written instructions and release sheet is translated. The rest of the interface is marked for translation and in
the catalogue with an empty msgstr (issue 15: Spanish is shipped for the family's sheet only), so it shows in English."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest

import mibg.web
from python_text import marked_messages

LOCALE = Path(mibg.web.__file__).with_name("locale") / "es" / "LC_MESSAGES"
WEB = Path(mibg.web.__file__).parent
MODULES = sorted(p for p in WEB.rglob("*.py") if "migrations" not in p.parts)


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


@pytest.fixture(scope="module")
def catalogue() -> set[str]:
    """Every msgid of the catalogue, with the plural form of each message that has one."""
    import re

    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    plurals = {"".join(ast.literal_eval(part) for part in found.split("\n") if part)
               for found in re.findall(r'^msgid_plural ((?:".*"\n)+)', text, flags=re.M)}
    return set(_po_entries(text)) | plurals


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(WEB).as_posix())
def test_every_message_the_module_marks_for_translation_is_in_the_catalogue(path, catalogue) -> None:
    """A label, refusal or plot word marked in the code but missing from the catalogue cannot be translated: the
    catalogue is refreshed after the change (README, "Interface translation": makemessages, then compilemessages)."""
    missing = [f"line {m.line}: {m.text[:80]!r}" for m in marked_messages(path.read_text(encoding="utf-8"))
               if m.text not in catalogue]
    assert missing == [], "run makemessages -l es (README) and commit the catalogue"


def test_the_scan_of_marked_messages_reads_each_form_of_the_marking_functions() -> None:
    source = ('_("Saved.")\ngettext_lazy("Note")\nngettext("%(n)s day", "%(n)s days", n)\n'
              'pgettext("month", "May")\nformat_lazy("{}: {}", a, b)\n_(name)')
    assert [m.text for m in marked_messages(source)] == ["Saved.", "Note", "%(n)s day", "%(n)s days", "May"]


def _screening_words() -> list[tuple[str, object]]:
    from mibg.web.screening import spec

    found: list[tuple[str, object]] = []
    for section in spec.SECTIONS:
        found += [(f"section {section.key}", section.title), (f"section {section.key} help", section.help)]
    for group in spec.GROUPS:
        found += [(f"group {group.path or group.title}", group.title), (f"group {group.path} help", group.help)]
        for item in group.inputs:
            found += [(f"{group.path}.{item.name}", item.label), (f"{group.path}.{item.name} help", item.help)]
            found += [(f"{group.path}.{item.name} choice {value}", label) for value, label in item.choices]
    return [(where, text) for where, text in found if text != ""]


def test_every_label_title_help_and_choice_of_the_screening_form_is_marked_and_in_the_catalogue(catalogue) -> None:
    """The screening form is data (mibg.web.screening.spec): each of its words is marked (a lazy translation, read
    in the language of the request that shows it) and the catalogue holds it, so a translation translates the form."""
    from django.utils import translation
    from django.utils.functional import Promise

    from mibg.web.words import CLINIC_WORDS

    words = _screening_words()
    assert len(words) > 150
    unmarked = [where for where, text in words if not isinstance(text, Promise)]
    assert unmarked == []
    names = {str(w) for w in CLINIC_WORDS.values() if not isinstance(w, Promise)}  # G-CSF, ANC: the same everywhere
    with translation.override("en"):
        shown = [(where, str(text)) for where, text in words]
        # A select's option is the clinic word with a capital (mibg.web.screening.spec): "Neuroblastoma".
        missing = [f"{where}: {text}" for where, text in shown if any(c.isalpha() for c in text)  # not "1+"
                   and not {text, text[:1].lower() + text[1:]} & (catalogue | names)]
    assert missing == []


def test_every_value_of_the_clinical_vocabulary_has_its_clinic_word_marked_for_translation() -> None:
    """Choices of the forms are vocabulary values shown in the clinic's word (mibg.web.words); a value left out
    would show untranslated, with its underscores as spaces."""
    from enum import StrEnum

    from mibg.core import vocabulary
    from mibg.web.words import CLINIC_WORDS

    values = {m.value for name in vocabulary.__all__ if isinstance(e := getattr(vocabulary, name), type)
              and issubclass(e, StrEnum) for m in e}
    assert len(values) > 35
    assert sorted(v for v in values if any(c.isalpha() for c in v) and v not in CLINIC_WORDS) == []
