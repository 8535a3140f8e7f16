"""Every interface string in a template is marked for translation (issue 15): a person's words are inside
``{% translate %}`` or ``{% blocktranslate %}``, so a translation of the interface needs no template changed.
The words of the attributes a person reads (``title=``, ``placeholder=``, ``aria-label=``, ``alt=``) are marked too,
and so are the words the web layer's Python writes for a person: refusals and errors, page messages, form labels and
help, plot titles, axes and legends (tests/python_text.py).
Units and symbols (mCi, mR/h, 10^9/L, ...) stay as they are (tests/template_text.py, ALLOWED)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mibg
from python_text import eager_at_import, unmarked_messages
from template_text import runs, unmarked, unmarked_attributes

WEB = Path(mibg.__file__).resolve().parent / "web"
TEMPLATES = sorted(p for p in WEB.rglob("*.html") if "templates" in p.parts)
#: The web layer's Python modules (migrations record history: their words are not shown).
MODULES = sorted(p for p in WEB.rglob("*.py") if "migrations" not in p.parts)
#: The demo's records are data a person would have entered (a stem-cell product's label), not interface text.
SCANNED = [p for p in MODULES if p.name != "demo.py"]


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


def test_every_python_module_of_the_web_layer_is_scanned():
    assert len(MODULES) > 80


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: p.relative_to(WEB).as_posix())
def test_every_message_label_and_plot_word_of_the_module_is_marked_for_translation(path):
    found = [f"line {u.line}: {u.text[:80]!r}" for u in unmarked_messages(path.read_text(encoding="utf-8"))]
    assert found == [], "pass these through gettext (_(...) with %(name)s placeholders; gettext_lazy at class level)"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(WEB).as_posix())
def test_no_text_is_translated_once_at_import(path):
    found = [f"line {u.line}: {u.text}" for u in eager_at_import(path.read_text(encoding="utf-8"))]
    assert found == [], "text at module or class level is marked with gettext_lazy (it is read in each request's language)"


@pytest.mark.parametrize(("source", "flagged"), [
    ('raise Refused(f"This report is {status}: a submitted report is not changed.")',
     ["This report is {}: a submitted report is not changed."]),
    ('raise Refused(_("This record is already void."), "record")', []),
    ('raise Refused(_("Course %(n)s is open.") % {"n": n})', []),
    ('raise Refused(stop.message, "started_at")', []),
    ('raise InputError("reason", "give the reason")\nraise InputError("reason", _("give the reason"))',
     ["give the reason"]),
    ('messages.error(request, "Nothing was saved.")\nlogger.error("mail failed: %s", error)', ["Nothing was saved."]),
    ('form.add_error("code", "That code is not valid.")', ["That code is not valid."]),
    ('note = forms.CharField(label="Note", help_text=_("why"))', ["Note"]),
    ('f = forms.CharField(error_messages={"required": "Give the reason."})', ["Give the reason."]),
    ('axes.set_xlabel("hours after the start of the infusion")\naxes.set_ylabel("mR/h")',
     ["hours after the start of the infusion"]),
    ('axes.axhline(y, label=f"site limit {x} mR/h")\naxes.text(0.5, 0.5, "no values")', ["site limit {} mR/h", "no values"]),
    ('axes.annotate(num(r["net"]), (h, v))\nfigure.suptitle(_("Count recovery"))', []),
    ('class SignatureRefused(Refusal):\n    default_message = "The password does not match."',
     ["The password does not match."]),
    ('raise Http404("no such analysis")', ["no such analysis"]),
    ('Column("mrn", "MRN")\nrow.get("anc_nadir")\nRefused(_("x"), field="change_reason")', []),
    ('render(request, "f.html", {"title": "New patient", "button": _("Save"), "form": form, "mode": "edit"})',
     ["New patient"]),
    ('forms.ChoiceField(choices=[("", "— choose —"), ("yes", _("Cleared")), (SIGNED, "signed")])', ["— choose —"]),
])
def test_the_python_scan_flags_words_a_person_reads_left_unmarked_and_only_those(source, flagged):
    assert [u.text for u in unmarked_messages(source)] == flagged


@pytest.mark.parametrize(("source", "flagged"), [
    ('from django.utils.translation import gettext as _\nclass F(forms.Form):\n    note = forms.CharField(label=_("Note"))',
     [3]),
    ('from django.utils.translation import gettext_lazy as _\nclass F(forms.Form):\n    note = forms.CharField(label=_("Note"))',
     []),
    ('from django.utils.translation import gettext as _\nLABEL = _("Note")\ndef f():\n    return _("Note")', [2]),
    ('from django.utils.translation import gettext as _\nsaid = lambda r: _("Saved.")', []),
])
def test_the_import_time_scan_flags_eager_translation_outside_functions(source, flagged):
    assert [u.line for u in eager_at_import(source)] == flagged
