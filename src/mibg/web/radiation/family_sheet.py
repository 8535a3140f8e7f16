"""The family's written instructions in their language: one set of words for the page and the PDF.

The words go through Django's translation framework (``locale/<lang>/LC_MESSAGES/django.po``); the numbers and
dates come from the signed release (or the draft worked out from the latest reading). Whether a translation has
been reviewed, by whom and when, is recorded in the protocol definition (``translations``); an unreviewed one is
marked on the sheet itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.utils import dateformat, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mibg.core.times import site_time
from mibg.protocol import load_protocol
from mibg.reports.pdf.family_instructions import FamilySheet

__all__ = ["LANGUAGES", "family_sheet", "language_of"]

#: The languages a family sheet is printed in: the source text and each translation the definition lists.
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}

# Date formats in each language's own word order (Django's format characters; \d\e is a literal "de").
_LONG_DATE = {"en": "l j F Y", "es": r"l j \d\e F \d\e Y"}
_SHORT_DATE = {"en": "l j F", "es": r"l j \d\e F"}
_BIRTH_DATE = {"en": "j F Y", "es": r"j \d\e F \d\e Y"}


def language_of(raw: str | None) -> str:
    """The sheet's language from the request (``?lang=es``); refused with the field named when unknown."""
    language = (raw or "en").strip().lower()
    if language not in LANGUAGES:
        raise ValueError(f"lang: {raw!r} is not a language of the family sheet ({', '.join(LANGUAGES)})")
    return language


def _local_time(moment: datetime) -> str:
    return site_time(moment)


def translation_notice(language: str) -> str:
    """The mark an unreviewed translation carries, from the protocol definition's record of its review."""
    record = load_protocol().translations.get(language)
    if record is None or record.reviewed:
        return ""
    return _("This translation has not yet been reviewed by a qualified medical translator. If anything is "
             "unclear, ask the care team to explain it.")


def family_sheet(patient: Any, data: Mapping[str, Any], *, draft: bool, record: Any, language: str) -> FamilySheet:
    """The sheet for ``patient`` from the instructions ``data`` (days, until, dose rate...), in ``language``."""
    with translation.override(language):
        return _build(patient, data, draft=draft, record=record, language=language)


def _build(patient: Any, data: Mapping[str, Any], *, draft: bool, record: Any, language: str) -> FamilySheet:
    name = escape(patient.given_name)
    days = int(data["days"])
    released_at = datetime.fromisoformat(str(data["released_at"]))
    until: date = datetime.fromisoformat(str(data["until"])).date() if "T" in str(data["until"]) \
        else date.fromisoformat(str(data["until"]))
    until_long = dateformat.format(until, _LONG_DATE[language])
    until_short = dateformat.format(until, _SHORT_DATE[language])
    values = {"name": name, "days": days, "until": until_long, "until_short": until_short,
              "rate": escape(str(data["dose_rate_mr_per_h"]))}
    when_line = (_("printed %(time)s") if draft else _("went home %(time)s")) % {"time": _local_time(released_at)}
    patient_line = _("%(given)s %(family)s · MRN %(mrn)s · born %(born)s · %(when)s") % {
        "given": patient.given_name, "family": patient.family_name.upper(), "mrn": patient.mrn,
        "born": dateformat.format(patient.birth_date, _BIRTH_DATE[language]), "when": when_line}
    draft_notice = (_("DRAFT: %(name)s has not been released. The days and dates below are worked out from the latest "
                      "reading as if %(name)s went home now; they are fixed when the release is signed.")
                    % {"name": patient.given_name}) if draft else ""
    key_line = ngettext("Follow these steps for %(days)s day: until %(until)s.",
                        "Follow these steps for %(days)s days: until %(until)s.", days) % values
    sections: tuple[tuple[str, tuple[str, ...], bool], ...] = (
        ("", (_("%(name)s had a radioactive medicine, iodine-131 MIBG. A small amount is still in %(name)s's body. "
                "It leaves a little more every day, mostly in the urine, and the rest wears off by itself. Until "
                "then, people who are close to %(name)s get a small amount of radiation. These steps keep it as low "
                "as possible. They matter most in the first days.") % values,), False),
        (_("Distance"), (
            _("Radiation gets much weaker with distance. When you can, stay about <strong>1 metre (3 feet, an arm's "
              "length)</strong> away from %(name)s.") % values,
            _("Give %(name)s all the care and comfort needed. Hugs and help are fine: keep them short, then step "
              "back.") % values,
            _("Keep <strong>pregnant women, babies and young children</strong> at least 2 metres (6 feet) away. If "
              "you can, a person who is not pregnant looks after %(name)s.") % values,
        ), True),
        (_("Time"), (
            _("Keep the time very close to %(name)s short. Play, read and talk from across the room when you "
              "can.") % values,
            _("When %(name)s went home the radiation 1 metre away was %(rate)s mR per hour. It is less every "
              "day.") % values,
            _("Avoid long trips in a car or bus sitting next to other people."),
        ), True),
        (_("Sleeping"), (
            ngettext("%(name)s sleeps <strong>alone, in their own bed</strong>, for %(days)s night (until "
                     "%(until_short)s).",
                     "%(name)s sleeps <strong>alone, in their own bed</strong>, for %(days)s nights (until "
                     "%(until_short)s).", days) % values,
            _("If %(name)s shares a room, keep the beds at least 2 metres (6 feet) apart.") % values,
        ), True),
        (_("Bathroom and washing"), (
            _("%(name)s sits down on the toilet to pass urine. Flush twice, with the lid down.") % values,
            _("Wash hands with soap and water after every toilet visit, and after touching urine, vomit or "
              "diapers."),
            _("Wipe up any spills of urine or vomit with paper towels, then flush the towels."),
            _("Diapers: wear disposable gloves. Put used diapers and wipes in a sealed plastic bag and do what the "
              "radiation safety team told you about throwing them away."),
            _("Wash %(name)s's clothes, towels and sheets separately from the rest of the family's. Do not share "
              "cups, spoons, plates or toothbrushes.") % values,
        ), True),
        (_("School and day care"), (
            _("%(name)s can go back to school or day care on <strong>%(until)s</strong>.") % values,), False),
        (_("How long"), (
            ngettext("These steps last %(days)s day, until %(until)s. After that, %(name)s can be with family and "
                     "friends as usual. Keep washing hands well after the toilet.",
                     "These steps last %(days)s days, until %(until)s. After that, %(name)s can be with family and "
                     "friends as usual. Keep washing hands well after the toilet.", days) % values,), False),
        (_("Questions"), (
            _("Call the radiation safety team: ____________________ (day) ____________________ (night and "
              "weekend)."),
            _("Show this sheet at any hospital or doctor visit in the next weeks. Radiation detectors, for example "
              "at airports, may notice %(name)s for a while.") % values,
        ), False),
    )
    sign_box: tuple[str, ...] = ()
    signature = ""
    if record is not None:
        sign_box = (
            _("Given and explained to: <strong>%(person)s</strong>") % {"person": escape(record.instructions_given_to)},
            _("Signature of parent or guardian: ____________________________ Date: ______________"),
        )
        signature = _("Release authorised by %(signer)s, %(time)s (10 CFR 35.75).") % {
            "signer": record.signed_name, "time": _local_time(record.signed_at)}
    method_note = _(
        "How the days were worked out (for the care team): the precautions last until the dose another person could "
        "still receive from %(name)s is at most %(threshold)s mSv (10 CFR 35.75(b)), assuming, to be safe, that none "
        "of the medicine leaves the body after release: %(formula)s. Dose to others from release on: %(others)s mSv "
        "on that assumption, %(effective)s mSv with the clearance measured in hospital. Rule to be confirmed by the "
        "site's radiation safety officer.") % {
        "name": patient.given_name, "threshold": data["threshold_msv"], "formula": data["formula"],
        "others": data["dose_to_others_msv"], "effective": data["dose_to_others_effective_msv"]}
    furniture = (("patient", _("Patient")), ("course", _("course")), ("protocol", _("protocol")),
                 ("created", _("created")), ("page", _("Page")), ("of", _("of")))
    return FamilySheet(
        language=language, title=_("Going home after %(name)s's MIBG treatment") % {"name": patient.given_name},
        patient_line=patient_line, draft_notice=draft_notice, translation_notice=translation_notice(language),
        key_line=key_line, sections=sections, sign_box=sign_box, signature=signature, method_note=method_note,
        furniture=furniture)
