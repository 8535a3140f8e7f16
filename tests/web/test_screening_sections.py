"""The screening form in the protocol record's sections: each saves on its own, shows its criteria's results and
names the data it misses in the clinic's words (issue 15). Without JavaScript every section still saves."""

from __future__ import annotations

import json
import re

from clinic_helpers import form_post_data

HTMX = {"HTTP_HX_REQUEST": "true"}


def _page(client, course):
    return client.get(f"/courses/{course.pk}/screening/")


def _visible_text(html: str) -> str:
    """The text a person reads: no tags, attributes, scripts or styles."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S))


def test_the_form_has_the_protocol_records_six_sections_in_its_order_with_one_open(login, make_course):
    course = make_course()
    html = _page(login("nora"), course).content.decode()
    keys = re.findall(r'<details class="card screening-section" id="s-([a-z_]+)"', html)
    assert keys == ["disease", "patient", "prior_therapy", "stem_cells", "organ_function", "exclusions"]
    assert len(re.findall(r'<details class="card screening-section" id="s-[a-z_]+" open>', html)) <= 1
    for title in ("Diagnosis and disease", "Patient", "Prior therapy", "Stem cells", "Organ function", "Exclusions"):
        assert f"<h2>{title}" in html


def test_saving_one_section_with_htmx_changes_only_that_section_and_returns_it_with_its_criteria(login, make_course):
    course = make_course()  # eligible
    client = login("nora")
    data = form_post_data(_page(client, course).context["form"])
    data["weight_kg"] = "30.0"  # patient section: not saved by the organ-function button
    data["labs.0.value"] = "0.6"  # ANC below 0.75: H1 not met
    response = client.post(f"/courses/{course.pk}/screening/", {**data, "section": "organ_function"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<details class="card screening-section" id="s-organ_function" open>')
    assert re.search(r'data-criterion="H1">not met<', html)
    assert "Eligibility now: not eligible" in html
    # the form's new version and token come back out of band, and the other sections' summaries with them
    course.refresh_from_db()
    assert f'name="version" value="{course.version}"' in html
    assert 'id="screening-meta" hx-swap-oob="true"' in html
    assert 'id="sum-patient" hx-swap-oob="true"' in html
    stored = json.loads(course.snapshot_json)
    assert stored["weight_kg"] == "22.0"
    assert next(lab for lab in stored["labs"] if lab["test"] == "anc")["value"] == "0.6"
    assert course.evaluations.order_by("-id").first().overall == "not eligible"


def test_saving_one_section_without_javascript_saves_it_and_opens_it_again(login, make_course):
    course = make_course()
    client = login("nora")
    data = form_post_data(_page(client, course).context["form"])
    data["weight_kg"] = "23.5"
    data["labs.0.value"] = "0.6"  # organ function: not saved by the patient button
    response = client.post(f"/courses/{course.pk}/screening/", {**data, "section": "patient"})
    assert response.status_code == 302
    assert response["Location"].endswith("?open=patient#s-patient")
    course.refresh_from_db()
    stored = json.loads(course.snapshot_json)
    assert stored["weight_kg"] == "23.5"
    assert next(lab for lab in stored["labs"] if lab["test"] == "anc")["value"] != "0.6"
    page = client.get(response["Location"]).content.decode()
    assert '<details class="card screening-section" id="s-patient" open>' in page
    assert "Patient: saved." in page


def test_emptying_a_sections_value_clears_it_and_the_section_says_what_is_missing_in_the_clinics_words(
        login, make_course):
    course = make_course()
    client = login("nora")
    data = form_post_data(_page(client, course).context["form"])
    anc_row = "labs.0"  # the demo screening lists the ANC first
    for name in ("value", "lln", "collected_at"):  # the whole result removed (the printed test and unit stay)
        data[f"{anc_row}.{name}"] = ""
    response = client.post(f"/courses/{course.pk}/screening/", {**data, "section": "organ_function"}, **HTMX)
    html = response.content.decode()
    assert re.search(r'data-criterion="H1">not known<', html)
    missing = re.search(r'<p class="missing-data"><strong>Missing:</strong>(.*?)</p>', html).group(1)
    assert "Laboratory results: ANC" in missing
    assert 'href="#f-labs.anc"' in missing
    assert "labs.anc" not in _visible_text(html)


def test_a_bad_value_in_a_section_is_named_on_its_input_and_nothing_is_saved(login, make_course):
    course = make_course()
    client = login("nora")
    data = form_post_data(_page(client, course).context["form"])
    data["weight_kg"] = "22,5 kg"
    evaluations, version = course.evaluations.count(), course.version
    response = client.post(f"/courses/{course.pk}/screening/", {**data, "section": "patient"}, **HTMX)
    html = response.content.decode()
    assert 'class="field has-error" id="f-weight_kg"' in html
    assert f'name="version" value="{version}"' in html  # the version posted, never a newer one
    course.refresh_from_db()
    assert (course.evaluations.count(), course.version) == (evaluations, version)
    # Without JavaScript: the whole page, this section open with the error, what was typed elsewhere kept.
    data["labs.0.value"] = "0.7"
    page = client.post(f"/courses/{course.pk}/screening/", {**data, "section": "patient"}).content.decode()
    assert '<details class="card screening-section" id="s-patient" open>' in page
    assert 'class="field has-error" id="f-weight_kg"' in page
    assert 'name="labs.0.value" value="0.7"' in page


def test_a_section_saved_from_a_stale_page_is_refused_as_a_conflict_and_the_page_is_reloaded(login, make_course):
    course = make_course()
    nora, patel = login("nora"), login("patel")
    stale = form_post_data(_page(nora, course).context["form"])
    fresh = form_post_data(_page(patel, course).context["form"])
    patel.post(f"/courses/{course.pk}/screening/", {**fresh, "weight_kg": "24.0", "section": "patient"})
    response = nora.post(f"/courses/{course.pk}/screening/", {**stale, "weight_kg": "25.0", "section": "patient"},
                         **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"].endswith("?open=patient#s-patient")
    course.refresh_from_db()
    assert json.loads(course.snapshot_json)["weight_kg"] == "24.0"


def test_the_whole_form_still_saves_every_section_at_once(login, make_course):
    course = make_course()
    client = login("nora")
    data = form_post_data(_page(client, course).context["form"])
    data["weight_kg"] = "23.0"
    data["labs.0.value"] = "0.6"
    response = client.post(f"/courses/{course.pk}/screening/", data)
    assert response.status_code == 302
    assert "/evaluations/" in response["Location"]  # the full result page
    course.refresh_from_db()
    stored = json.loads(course.snapshot_json)
    assert stored["weight_kg"] == "23.0"
    assert next(lab for lab in stored["labs"] if lab["test"] == "anc")["value"] == "0.6"
