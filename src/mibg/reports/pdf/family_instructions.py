"""The written instructions for the parent or guardian (10 CFR 35.75(b)), printed as a PDF in the family's language.

The words arrive already translated (the web layer builds them with Django's translation framework); this module
only lays them out, so the sheet on screen and the PDF say the same thing. Paragraph text may carry ``<strong>``
around words that must not be missed; every piece of data in it was escaped by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reportlab.platypus import Flowable, KeepTogether, ListFlowable, ListItem, Spacer

from mibg.reports.pdf.common import DocumentSpec, banner, markup, p, para_text, render
from mibg.reports.record import PatientIdentity

__all__ = ["FamilySheet", "family_instructions_pdf"]


@dataclass(frozen=True, slots=True)
class FamilySheet:
    """One sheet for the family, in one language. Texts marked ``html`` hold ``<strong>`` and escaped data only."""

    language: str
    title: str
    patient_line: str
    draft_notice: str  # plain text; empty when the release is signed
    translation_notice: str  # empty for the source language or a reviewed translation
    key_line: str  # html
    sections: tuple[tuple[str, tuple[str, ...], bool], ...]  # heading, html items, as a bulleted list?
    sign_box: tuple[str, ...]  # lines, html; empty before the release is signed
    signature: str
    method_note: str
    furniture: tuple[tuple[str, str], ...]  # page furniture words: patient, page, of, created


def _strong(html: str) -> str:
    """reportlab's Paragraph markup knows <b>, not <strong>."""
    return html.replace("<strong>", "<b>").replace("</strong>", "</b>")


def _section(heading: str, items: tuple[str, ...], bulleted: bool) -> list[Flowable]:
    flowables: list[Flowable] = [p(heading, "h2")]
    if bulleted:
        flowables.append(ListFlowable([ListItem(markup(_strong(item)), leftIndent=12) for item in items],
                                      bulletType="bullet", start="-", leftIndent=12))
    else:
        flowables += [markup(_strong(item)) for item in items]
    return [KeepTogether(flowables)]


def family_instructions_pdf(sheet: FamilySheet, patient: PatientIdentity, protocol_label: str, created: datetime,
                            course_number: int, site: str = "") -> bytes:
    """The sheet as PDF bytes; reproducible for the same sheet and ``created`` time."""
    spec = DocumentSpec(sheet.title, patient, protocol_label, created, course_number, site,
                        labels=dict(sheet.furniture))
    story: list[Flowable] = [p(sheet.title, "title"), p(sheet.patient_line, "small"), Spacer(1, 4)]
    if sheet.translation_notice:
        story += [banner(sheet.translation_notice, "#8a5a00"), Spacer(1, 4)]
    if sheet.draft_notice:
        story += [banner(sheet.draft_notice, "#a00000"), Spacer(1, 4)]
    story += [markup(_strong(sheet.key_line), "h2")]
    for heading, items, bulleted in sheet.sections:
        story += _section(heading, items, bulleted)
    if sheet.sign_box:
        story += [Spacer(1, 10), KeepTogether([markup(_strong(line)) for line in sheet.sign_box])]
    if sheet.signature:
        story += [Spacer(1, 4), markup(para_text(sheet.signature))]
    story += [Spacer(1, 8), p(sheet.method_note, "small")]
    return render(spec, story)
