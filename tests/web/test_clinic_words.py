"""The interface in the clinic's words (issue 15): citations named and linked, no field paths, no machine labels,
and an exclusion the patient passes reads "no exclusion", not "met"."""

from __future__ import annotations

import re

import pytest

from clinic_helpers import form_post_data
from mibg.web.sources import linked, plain
from mibg.web.words import clinic_word, verdict


@pytest.mark.parametrize(("text", "shown", "anchor"), [
    ("decisions.md A9", "product decision A9</a> (scan window)", "#decision-A9"),
    ("see clinical-reference §1.4 for X", "clinical reference §1.4</a> (Exclusions, dose and administration)", "#ref-1.4"),
    ("decisions.md 'Release'", "product decision “Release”</a>", "#decision-release"),
    ('decisions.md Dose "Stem-cell infusion"', "product decision “Stem-cell infusion”</a>", "#decision-stem-cell-infusion"),
    ("decisions.md A38", "product decision A38</a> (preparation volumes)", "#decision-A38"),
])
def test_a_citation_is_shown_as_a_named_decision_or_reference_linked_to_its_entry(db, text, shown, anchor):
    html = str(linked(text))
    assert shown in html
    assert f'href="/documents/references/{anchor}"' in html
    assert "decisions.md" not in re.sub(r'title="[^"]*"', "", html)
    assert "clinical-reference" not in html


def test_two_decisions_cited_together_are_each_linked(db):
    html = str(linked("decisions.md H5 and X1: only the chair"))
    assert html.count('class="source"') == 2
    assert "product decision H5" in html
    assert "product decision X1" in html
    assert html.endswith(": only the chair")


def test_a_second_section_of_the_reference_in_one_citation_is_linked_too(db):
    html = str(linked("clinical-reference §1.3 S2, S3, T5; §1.4 R1, R2"))
    assert html.count('class="source"') == 2
    assert 'href="/documents/references/#ref-1.4"' in html
    assert "§" not in re.sub(r"<a [^>]*>.*?</a>", "", html)


def test_text_around_a_citation_is_escaped_and_plain_text_keeps_the_words(db):
    html = str(linked("<b>12 mCi/kg</b> (decisions.md A2)"))
    assert html.startswith("&lt;b&gt;12 mCi/kg&lt;/b&gt; (")
    assert plain("Blocked (decisions.md A2).") == "Blocked (product decision A2 (exactly 12 mCi/kg))."


def test_a_decision_named_in_words_without_its_title_is_linked_with_its_title_and_one_with_its_title_is_left_alone(db):
    # The screening form's help was written "(product decision A5)" for translation: Nora sees its title, linked.
    html = str(linked("Lansky to 16 years, Karnofsky above (product decision A5)"))
    assert 'href="/documents/references/#decision-A5"' in html
    assert "product decision A5</a> (performance scale))" in html
    assert plain("(product decision A5)") == "(product decision A5 (performance scale))"
    assert plain("product decision A9 (scan window)") == "product decision A9 (scan window)"


@pytest.mark.parametrize(("value", "word"), [("g_csf", "G-CSF"), ("gm_csf", "GM-CSF"), ("il_6", "IL-6"),
                                             ("pbsc", "PBSC (CD34+ cells)"), ("whole_lung", "whole lung")])
def test_vocabulary_values_are_the_clinics_words(value, word):
    assert clinic_word(value) == word


@pytest.mark.parametrize(("status", "kind", "word"), [
    ("met", "exclusion", "no exclusion"), ("not met", "exclusion", "excluded"), ("unknown", "exclusion", "not known"),
    ("needs review", "exclusion", "needs the chair"), ("met", "inclusion", "met"), ("not met", "inclusion", "not met"),
])
def test_a_criterions_result_reads_from_the_patients_side(status, kind, word):
    assert verdict(status, kind) == word


def test_morgan_reads_every_decision_and_reference_section_on_one_page(login):
    page = login("morgan").get("/documents/references/").content.decode()
    for anchor in ("decision-A1", "decision-A9", "decision-A38", "decision-H5", "decision-release", "ref-1.4", "ref-6.1"):
        assert f'id="{anchor}"' in page
    assert "Exclusions, dose and administration" in page
    assert "shared/reference" not in page  # where the codes come from is named in words, not as a file path
    assert ".md" not in re.sub(r'title="[^"]*"', "", page)


def test_the_screening_result_names_missing_data_and_exclusions_in_the_clinics_words(login, make_course):
    course = make_course()
    client = login("nora")
    form = client.get(f"/courses/{course.pk}/screening/").context["form"]
    data = {k: v for k, v in form_post_data(form).items() if not k.startswith("consent.")}
    response = client.post(f"/courses/{course.pk}/screening/", data)
    page = client.get(response["Location"]).content.decode()
    # What a person reads: the page without the evaluated snapshot's JSON (a machine format, folded away).
    visible = re.sub(r'<[^>]+>', " ", re.sub(r"<pre>.*?</pre>", "", page, flags=re.S))
    assert "Informed consent" in visible
    assert "Not recorded yet:" in visible
    assert "Missing: consent" not in visible
    assert "no exclusion" in visible
    assert "decisions.md" not in visible
    assert "clinical-reference" not in visible
    assert "product decision" in visible
    assert re.search(r"\b(g csf|il 6|pbsc)\b", visible) is None


def test_noras_worklist_names_whose_work_each_item_is_as_the_team_says_it_not_by_role_key(login, make_course):
    make_course(until="administered", days_ahead=-1)
    html = login("nora").get("/worklist/").content.decode()
    cells = re.findall(r"<td>([^<]*)</td><td><a class=\"button secondary\"", html)
    assert cells, "the worklist lists the missed iodide dose"
    assert set(cells) <= {"Research nurse / coordinator", "Physician (authorised user)", "Medical physicist / RSO",
                          "Radiopharmacist", "Study chair"}, cells


def test_a_time_fields_help_names_the_site_zone_by_its_clock_abbreviations_not_its_database_name():
    from mibg.web.forms import datetime_field

    help_text = str(datetime_field("Infusion start").help_text)
    assert help_text.endswith("(site time, PST/PDT)")  # the default site zone, America/Los_Angeles
    assert "America/" not in help_text


def test_nora_picks_the_patients_sex_from_the_clinic_words_while_the_stored_value_stays_the_code(login):
    page = login("nora").get("/patients/new/").content.decode()
    options = {label: value for value, label in
                   re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', page.split('name="sex"', 1)[1]
                              .split("</select>", 1)[0])}
    assert options == {"— choose —": "", "Female": "female", "Male": "male", "Other": "other", "Unknown": "unknown"}


def test_the_patient_page_names_the_sex_in_the_clinics_word(login, make_course):
    course = make_course()
    page = login("nora").get(f"/patients/{course.patient_id}/").content.decode()
    assert re.search(r"<dt>Sex</dt><dd>(Female|Male|Other|Unknown)</dd>", page)
