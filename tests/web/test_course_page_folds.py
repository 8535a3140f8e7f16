"""A course page reads from the top (issue 15): what happens next, then each step done folded to its one-line
result; the step in hand stays open; nothing a clinician checks is left off, only folded (it is in the page and
prints). The screening form's lab rows name each test as the clinic does, in full.

Reference values by hand (the demo directive of tests/conftest.py make_course): 18 mCi/kg x 22.0 kg = 396.0 mCi.
"""

from __future__ import annotations

import re


def _details(html: str, element_id: str) -> str:
    """The opening tag of the ``<details id=...>``."""
    match = re.search(rf'<details[^>]*id="{element_id}"[^>]*>', html)
    assert match is not None, f"no <details id={element_id}>"
    return match.group(0)


def _summary(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[html.index("<summary>", start):html.index("</summary>", start)]


def test_on_a_released_course_dr_patel_sees_every_step_done_as_one_line_and_the_numbers_are_still_on_the_page(
        login, make_course):
    course = make_course(until="released", days_ahead=-5)
    html = login("patel").get(f"/courses/{course.pk}/").content.decode()
    for step in ("step-screening", "step-directive", "step-assay", "step-administration", "history"):
        assert " open" not in _details(html, step), step
    # Each one line carries the step's result.
    assert "eligible" in _summary(html, "step-screening")
    directive = _summary(html, "step-directive")
    assert "396.0 mCi" in directive
    assert "signed by Dr Asha Patel, MD" in directive
    assert "verified by Sam Okafor" in directive
    assert "within tolerance" in _summary(html, "step-assay")
    assert "mCi" in _summary(html, "step-administration")
    assert "from the prescription" in _summary(html, "step-administration")
    # Folded, not removed: the formula and the signature are in the page (they print, print.css).
    assert "18 mCi/kg × 22 kg" in html
    assert 'class="signature"' in html
    assert "(assay at administration)" in html
    # The next step leads the page, before the first folded step.
    assert html.index('id="next-action"') < html.index('id="step-screening"')
    # The readings and dosimetry of a released course fold under its release record; the calendar is one line.
    assert html.index('id="release-record"') < html.index('id="radiation-detail"')
    assert " open" not in _details(html, "radiation-detail")
    assert " open" not in _details(html, "calendar-part")
    assert "entries" in _summary(html, "calendar-part")


def test_while_the_directive_is_the_step_in_hand_only_its_card_is_open_and_the_others_are_one_line(login, make_course):
    course = make_course(until="directive signed")
    html = login("patel").get(f"/courses/{course.pk}/").content.decode()
    assert " open" in _details(html, "step-directive")
    for step in ("step-screening", "step-assay", "step-administration"):
        assert " open" not in _details(html, step), step
    assert "no assay" in _summary(html, "step-assay")
    assert " open" in _details(html, "orders")  # the order set before the release: open


def test_in_screening_the_steps_to_come_are_one_line_each_saying_what_is_not_there_yet(login, make_course):
    course = make_course(until="screening")
    html = login("nora").get(f"/courses/{course.pk}/").content.decode()
    assert " open" in _details(html, "step-screening")
    assert "none signed" in _summary(html, "step-directive")
    assert "not administered" in _summary(html, "step-administration")
    for step in ("step-directive", "step-assay", "step-administration", "orders"):
        assert " open" not in _details(html, step), step


def test_screening_lab_rows_name_each_test_in_the_clinics_words(login, make_course):
    course = make_course()
    html = login("nora").get(f"/courses/{course.pk}/screening/").content.decode()
    for value, name in (("anc", "ANC"), ("platelets", "Platelets"), ("hemoglobin", "Hemoglobin"), ("ast", "AST"),
                        ("alt", "ALT"), ("bilirubin", "Bilirubin"), ("creatinine", "Creatinine")):
        assert re.search(rf'<option value="{value}"( selected)?>{name}</option>', html), name
    assert re.search(r'<option value="red_cells"( selected)?>Red cells</option>', html)
