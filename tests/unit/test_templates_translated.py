"""Every interface string in a template is marked for translation (issue 15): a person's words are inside
``{% translate %}`` or ``{% blocktranslate %}``, so a translation of the interface needs no template changed.
The words of the attributes a person reads (``title=``, ``placeholder=``, ``aria-label=``, ``alt=``) are marked too.
Units and symbols (mCi, mR/h, 10^9/L, ...) stay as they are (tests/template_text.py, ALLOWED)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mibg
from template_text import runs, unmarked, unmarked_attributes

WEB = Path(mibg.__file__).resolve().parent / "web"
TEMPLATES = sorted(p for p in WEB.rglob("*.html") if "templates" in p.parts)


def test_every_template_is_scanned():
    assert len(TEMPLATES) > 50


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.relative_to(WEB).as_posix())
def test_every_visible_string_of_the_template_is_marked_for_translation(path):
    found = [f"line {r.line}: {r.text.strip()[:80]!r}" for r in unmarked(path.read_text(encoding="utf-8"))]
    assert found == [], "wrap these in {% translate %} / {% blocktranslate %} ({% load i18n %})"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.relative_to(WEB).as_posix())
def test_every_visible_attribute_of_the_template_is_marked_for_translation(path):
    found = [f"line {r.line}: {r.text.strip()[:80]!r}" for r in unmarked_attributes(path.read_text(encoding="utf-8"))]
    assert found == [], "wrap these attribute values in {% translate %} / {% blocktranslate %} ({% load i18n %})"


@pytest.mark.parametrize(("source", "flagged"), [
    ("<p>Released at {{ x|when }}</p>", ["Released at "]),
    ('<a href="{% url \'a\' %}" title="x">Open the course</a>', ["Open the course"]),
    ("<td>{{ value }} mCi</td><td>&mdash;</td><td>10^9/L</td>", []),
    ("{% load i18n %}<h1>{% translate \"Deadlines\" %}</h1>", []),
    ("{% blocktranslate with n=x %}Course {{ n }}{% endblocktranslate %}", []),
    ("<script>const label = 'not interface text';</script>{# a note #}", []),
    ("{% comment %}Not shown{% endcomment %}<button>Sign</button>", ["Sign"]),
])
def test_the_scan_flags_words_outside_translation_tags_and_only_those(source, flagged):
    assert [r.text for r in unmarked(source)] == flagged


@pytest.mark.parametrize(("source", "flagged"), [
    ('<input placeholder="Search by name" aria-label="Search">', ["Search by name", "Search"]),
    ('<img alt="Dose rate plot" src="x.png"><a title="{{ n }} overdue">', ["Dose rate plot", "overdue"]),
    ('<nav aria-label="{% translate "Sections" %}"><span title="{% blocktranslate %}{{ n }} overdue{% endblocktranslate %}">',
     []),
    ('<td title="{{ value }} mCi" data-title="Not read">x</td>{# <b title="A note"> #}', []),
    ('{% comment %}<b title="Not shown">{% endcomment %}<script>el.title = "t"; x = \'<i alt="no">\';</script>', []),
])
def test_the_attribute_scan_flags_words_read_in_an_attribute_and_only_those(source, flagged):
    assert [r.text for r in unmarked_attributes(source)] == flagged


def test_a_sentence_with_a_variable_is_one_run():
    (run,) = runs("<p>Discovered {{ at|when }}: every clock starts there.</p>")
    assert [p[0] for p in run.parts] == ["text", "var", "text"]
