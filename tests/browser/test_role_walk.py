"""Each member of the team walks a course from screening to release and follow-up, in a real browser (issue 15).

Every page is checked as a person reads it: no console error (the ``as_person`` fixture), the site's stylesheet
applied (a computed style), no internal reference on the screen (the code's notes: "decisions.md", "clinical-reference",
"§", snapshot paths like ``labs.anc``, snake_case names, product-decision codes outside their linked title) and every
time in the site's format (never ISO ``T..:..``, ``+00:00`` or raw UTC). The pages' navigation timings (Navigation
Timing API) are written to ``test-output/browser_timings.json``; ``bench/bench_browser_timings.py`` prints them (a
record, not a timed test: the goal is under 300 ms to the page being usable). Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clinic_helpers import PASSWORD

pytestmark = [pytest.mark.browser]

TIMINGS = Path("test-output") / "browser_timings.json"

#: What a person reads on the page: the body's text without scripts, styles, inputs' values, and without the
#: linked titles of sources (``a.source``: "product decision A9 (scan window)", "clinical reference §1.4 (...)").
VISIBLE_TEXT = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('script, style, template, a.source, [hidden], .visually-hidden').forEach(e => e.remove());
  body.querySelectorAll('details:not([open]) > :not(summary)').forEach(e => e.remove());
  return body.innerText;
}"""

#: The snapshot's top-level names a path starts with ("labs.anc", "attestations.normal_lung_function.value").
SNAPSHOT_ROOTS = ("labs", "diagnosis", "disease_status", "mibg_scans", "anti_tumour_therapies", "radiotherapy",
                  "cytokines", "prior_mibg_courses", "stem_cell_products", "transfusions", "performance", "pregnancy",
                  "infection_screen", "proteinuria", "consent", "attestations", "chair_decisions")

INTERNAL = [
    ("a file of the code's notes", re.compile(r"decisions\.md|clinical-reference|\.py\b")),
    ("the project's issue tracker", re.compile(r"\bissue \d+")),
    ("a module of the code", re.compile(r"\bmibg\.[a-z_]+\.[a-z_.]+")),
    ("a section sign outside a linked reference", re.compile(r"§")),
    ("a snapshot path", re.compile(rf"\b(?:{'|'.join(SNAPSHOT_ROOTS)})\.[a-z0-9_]+")),
    # a formula's subscripted symbol (a_i, lambda_i) is not a code name
    ("a snake_case name", re.compile(r"\b(?![a-z]+_[a-z0-9]\b)[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")),
    # A0 is the administered activity's symbol; product decisions are A1 and up
    ("a product-decision code outside its linked title", re.compile(r"(?<![\w/.-])A[1-9]\d?\b")),
]

NOT_SITE_TIME = [
    ("an ISO time", re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")),
    ("a UTC offset", re.compile(r"[+-]\d{2}:\d{2}\b")),
    ("raw UTC", re.compile(r"\bUTC\b|\d{2}:\d{2}(?::\d{2})?Z\b")),
]


def check_page(page, where: str, findings: list[str]) -> dict[str, float]:
    """The checks every page passes (what it finds is added to ``findings``); returns its navigation timings (ms)."""
    page.wait_for_load_state("load")
    style = page.evaluate("""() => {
      const body = getComputedStyle(document.body), main = document.querySelector('main');
      return {font: body.fontFamily, bg: body.backgroundColor, main: main ? getComputedStyle(main).maxWidth : '',
              sheets: Array.from(document.styleSheets).map(s => s.href || '')};
    }""")
    assert style["bg"] == "rgb(246, 247, 249)", f"{where}: the site's stylesheet is not applied ({style})"
    assert style["main"] == "1200px", f"{where}: the page has no styled <main> ({style})"
    assert any(sheet.endswith("/style.css") for sheet in style["sheets"]), f"{where}: no site stylesheet ({style})"
    assert page.locator("header.top nav, header.top a").count() > 0, f"{where}: no navigation"
    text = page.evaluate(VISIBLE_TEXT)
    # The page the linked titles lead to lists the decisions and references by their codes and names its sources.
    for what, pattern in INTERNAL if "/documents/references/" not in page.url else ():
        found = sorted({m.group(0) for m in pattern.finditer(text)})
        if found:
            findings.append(f"{where}: {what} shown to the user: {found}\n{_around(text, pattern)}")
    for what, pattern in NOT_SITE_TIME:
        found = sorted({m.group(0) for m in pattern.finditer(text)})
        if found:
            findings.append(f"{where}: a time not in the site's format ({what}): {found}\n{_around(text, pattern)}")
    timing = page.evaluate("""() => {
      const n = performance.getEntriesByType('navigation')[0];
      return n ? {dom_content_loaded: n.domContentLoadedEventEnd, load: n.loadEventEnd, response_end: n.responseEnd}
               : null;
    }""")
    return timing or {}


def _around(text: str, pattern: re.Pattern[str]) -> str:
    match = pattern.search(text)
    return "" if match is None else "… " + text[max(0, match.start() - 120):match.end() + 120].replace("\n", " ") + " …"


@pytest.fixture
def walk(as_person, shot):
    """``walk(page, role, name, url)``: open the page, check it, screenshot it and keep its timings."""
    timings: dict[str, dict[str, float]] = {}
    findings: list[str] = []

    def visit(page, role: str, name: str, url: str | None = None) -> None:
        if url is not None:
            page.goto(url)
        where = f"{role} · {name} ({page.url})"
        timing = check_page(page, where, findings)
        if url is not None:  # a page opened (after an htmx swap the navigation entry is still the page's first load)
            timings[f"{role}: {name}"] = {**timing, "path": re.sub(r"https?://[^/]+", "", page.url)}
        shot(page, f"walk-{role}-{name}")

    yield visit
    TIMINGS.parent.mkdir(exist_ok=True)
    TIMINGS.write_text(json.dumps(timings, indent=2), encoding="utf-8")
    assert not findings, "\n\n".join(findings)


def test_each_role_walks_a_course_from_screening_to_follow_up_and_every_page_reads_as_the_clinics(
        transactional_db, people, make_course, as_person, walk):
    nora, patel, chen = as_person("nora", PASSWORD), as_person("patel", PASSWORD), as_person("chen", PASSWORD)
    sam, riley = as_person("sam", PASSWORD), as_person("riley", PASSWORD)

    # Screening: the nurse's sections, one saved with htmx; the physician and the chair read the result.
    course = make_course()
    walk(nora, "nurse", "patients", "/patients/")
    walk(nora, "nurse", "patient", f"/patients/{course.patient_id}/")
    start = nora.locator("button:has-text('Start a new course')").bounding_box()
    documents = nora.locator("#documents").bounding_box()
    assert documents["y"] - (start["y"] + start["height"]) >= 8, "the button touches the Documents card"
    walk(nora, "nurse", "course-screening", f"/courses/{course.pk}/")
    walk(nora, "nurse", "screening-form", f"/courses/{course.pk}/screening/")
    nora.click("#s-organ_function > summary")
    nora.fill('[name="labs.0.value"]', "0.6")  # ANC below 0.75 x 10^9/L
    nora.click("#save-organ_function")
    nora.wait_for_selector("#section-notice")
    assert nora.locator('#s-organ_function [data-criterion="H1"]').inner_text() == "not met"
    assert nora.locator("#screening-overall").inner_text() == "not eligible"
    walk(nora, "nurse", "screening-section-saved")
    nora.fill('[name="labs.0.value"]', "1.4")
    nora.click("#save-organ_function")
    nora.wait_for_selector("#section-notice:has-text('Eligibility now: eligible')")
    assert nora.locator('#s-organ_function [data-criterion="H1"]').inner_text() == "met"
    assert nora.locator("#screening-overall").inner_text() == "eligible"
    evaluation = course.evaluations.order_by("-id").first()
    walk(nora, "nurse", "evaluation", f"/evaluations/{evaluation.pk}/")
    walk(patel, "physician", "course-screening", f"/courses/{course.pk}/")
    walk(chen, "chair", "chair-decision", f"/courses/{course.pk}/chair/")

    # Eligible: the physician's written directive.
    eligible = make_course(until="eligible")
    walk(patel, "physician", "directive-form", f"/courses/{eligible.pk}/directive/")
    # Signed: the physicist verifies without the numbers.
    signed = make_course(until="directive signed")
    walk(sam, "physicist", "course-signed", f"/courses/{signed.pk}/")
    walk(sam, "physicist", "verify", f"/courses/{signed.pk}/verify/")
    # Verified: the radiopharmacist's assay.
    verified = make_course(until="verified")
    walk(riley, "radiopharmacist", "course-verified", f"/courses/{verified.pk}/")
    walk(riley, "radiopharmacist", "assay", f"/courses/{verified.pk}/assay/")
    # Assayed: the nurse's administration record.
    assayed = make_course(until="assayed", days_ahead=-1)
    walk(nora, "nurse", "administration", f"/courses/{assayed.pk}/administration/")
    # In-patient: the physicist's readings and release.
    inpatient = make_course(until="in-patient", days_ahead=-1)
    walk(sam, "physicist", "course-inpatient", f"/courses/{inpatient.pk}/")
    walk(sam, "physicist", "readings", f"/courses/{inpatient.pk}/readings/")
    walk(sam, "physicist", "release", f"/courses/{inpatient.pk}/release/")
    walk(nora, "nurse", "worklist", "/worklist/")
    # Released and in follow-up: the family's instructions, the follow-up page, the course's documents.
    released = make_course(until="released", days_ahead=-5)
    walk(sam, "physicist", "course-released", f"/courses/{released.pk}/")
    walk(nora, "nurse", "instructions", f"/courses/{released.pk}/release/instructions/")
    follow_up = make_course(until="follow-up", days_ahead=-10)
    walk(patel, "physician", "course-follow-up", f"/courses/{follow_up.pk}/")
    walk(patel, "physician", "follow-up", f"/followup/courses/{follow_up.pk}/")
    walk(nora, "nurse", "follow-up", f"/followup/courses/{follow_up.pk}/")
    walk(patel, "physician", "worklist", "/worklist/")
    walk(sam, "physicist", "worklist", "/worklist/")
    walk(riley, "radiopharmacist", "worklist", "/worklist/")
    walk(chen, "chair", "worklist", "/worklist/")
    walk(patel, "physician", "references", "/documents/references/")
    walk(patel, "physician", "programme", "/followup/programme/")
    walk(patel, "physician", "analytics", "/analytics/")
    walk(chen, "chair", "study-record", "/documents/study-record/")
    # Every page a person opens is whole: the radiation section opened directly is a page, not a fragment.
    walk(sam, "physicist", "radiation-direct", f"/courses/{inpatient.pk}/radiation/")
