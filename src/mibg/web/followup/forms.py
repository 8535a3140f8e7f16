"""Follow-up forms. Numbers are read by mibg.core (exact decimals); these forms only gather the text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from mibg.core.ae_terms import ae_terms
from mibg.core.labs import LABS
from mibg.core.response import (
    COMPONENTS,
    CURIE_LEVELS,
    CURIE_SKELETAL_SEGMENTS,
    CURIE_SOFT_TISSUE,
    ComponentResponse,
)
from mibg.core.vocabulary import TransfusionProduct
from mibg.web.followup.models import AdverseEvent, CurieAssessment
from mibg.web.forms import SafeForm, date_field, datetime_field

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as Text  # plain or marked for translation

#: Largest labs file accepted (a course's labs are a few hundred rows).
MAX_CSV_BYTES = 1_000_000

def term_choices() -> list[tuple[str, str]]:
    """The CTCAE v5.0 terms as a pick, each with its MedDRA code (mibg.core.ae_terms; issue 15)."""
    return [("", "—"), *sorted((t.name, t.label) for t in ae_terms().values())]


def unit_suggestions() -> list[str]:
    return sorted({u for d in LABS.values() for u in d.accepted_units})


def _text(label: Text, *, required: bool = False, help_text: Text = "", unit: str = "") -> forms.CharField:
    field = forms.CharField(label=label, required=required, max_length=40, help_text=help_text,
                            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    field.unit = unit  # type: ignore[attr-defined]
    return field


class LabForm(SafeForm):
    test = forms.ChoiceField(label=_("Test"), choices=[("", "—")] + [(k, f"{d.name} (LOINC {d.loinc})") for k, d in LABS.items()])
    value = _text(_("Value"), required=True)
    unit = forms.CharField(label=_("Unit"), max_length=30, widget=forms.TextInput(attrs={"list": "lab-units", "autocomplete": "off"}),
                           help_text=_("as the laboratory reports it, e.g. 10^9/L, /uL, g/dL, mg/dL, umol/L, U/L"))
    lln = _text("LLN", help_text=_("lower limit of normal, in the same unit as the value"))
    uln = _text("ULN", help_text=_("upper limit of normal, in the same unit as the value"))
    collected_at = datetime_field(_("Collected at"), required=True)


class LabCorrectionForm(LabForm):
    """decisions.md A37: the corrected result is a new entry; the old one stays, voided as superseded."""

    reason = forms.CharField(label=_("Reason for the correction"), widget=forms.Textarea(attrs={"rows": 2}))


class LabsUploadForm(SafeForm):
    file = forms.FileField(label=_("Labs file (CSV)"), help_text=_("columns: collected_at, test, value, unit, lln, uln "
                           "(lln and uln may be blank; collected_at with its UTC offset, e.g. 2026-03-02T07:30:00-08:00)"))

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is larger than %(size)s kB.") % {"size": MAX_CSV_BYTES // 1000})
        try:
            text: str = upload.read().decode("utf-8-sig")
            return text
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text: save it as CSV (UTF-8).")) from None


class TransfusionForm(SafeForm):
    product = forms.ChoiceField(choices=[("", "—")] + [(p.value, p.value.replace("_", " ").capitalize()) for p in TransfusionProduct])
    given_at = datetime_field(_("Given at (start)"), required=True)
    note = forms.CharField(required=False, max_length=200, label=_("Note"))


class VoidForm(SafeForm):
    reason = forms.CharField(label=_("Why is it void?"), widget=forms.Textarea(attrs={"rows": 2}))


YES_NO = [("", "—"), ("yes", "yes"), ("no", "no")]


class AdverseEventForm(SafeForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    term = forms.ChoiceField(label=_("CTCAE v5.0 term"), choices=term_choices,
                             widget=forms.Select(attrs={"hx-get": reverse_lazy("followup:ctcae_terms"),
                                                        "hx-trigger": "change", "hx-target": "#ae-term"}),
                             help_text=_("pick the term; its MedDRA code and grade definitions show beside it"))
    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int, choices=[("", "—")] + [(g, str(g)) for g in range(1, 6)])
    started_on = date_field(_("Start"), required=True)
    ended_on = date_field(_("End"), help_text=_("blank while ongoing"))
    attribution = forms.ChoiceField(label=_("Attribution to 131I-MIBG"), choices=[("", "—"), *AdverseEvent.ATTRIBUTIONS],
                                    required=False, help_text=_("the physician's; a nurse leaves it blank and the event "
                                                              "is a draft for the physician to attribute and sign"))
    serious = forms.TypedChoiceField(label=_("Serious (SAE)"), choices=YES_NO, coerce=lambda v: v == "yes",
                                     help_text=_("an SAE stays highlighted on the course and patient pages until a "
                                               "physician reviews it"))
    outcome = forms.ChoiceField(choices=[("", "—"), *AdverseEvent.OUTCOMES])
    action_taken = forms.ChoiceField(label=_("Action taken"), choices=[("", "—"), *AdverseEvent.ACTIONS])
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class AeSignForm(SafeForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    attribution = forms.ChoiceField(label=_("Attribution to 131I-MIBG"), choices=[("", "—"), *AdverseEvent.ATTRIBUTIONS])
    password = forms.CharField(widget=forms.PasswordInput, label=_("Your password (signature)"))


class SaeReviewForm(SafeForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Review and conclusion (e.g. reported to the IRB and sponsor on ..., expectedness)"),
                           widget=forms.Textarea(attrs={"rows": 3}))
    password = forms.CharField(widget=forms.PasswordInput, label=_("Your password (signature)"))


_LEVELS = [("", "—")] + [(level, f"{level} — {text}") for level, text in CURIE_LEVELS.items()]


class CurieForm(SafeForm):
    timepoint = forms.ChoiceField(choices=[("", "—"), *CurieAssessment.TIMEPOINTS])
    scan_date = date_field(_("Scan date"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, name in (*CURIE_SKELETAL_SEGMENTS, CURIE_SOFT_TISSUE):
            self.fields[key] = forms.TypedChoiceField(label=name.capitalize(), choices=_LEVELS, coerce=int)

    def segment_fields(self) -> list[forms.BoundField]:
        return [self[key] for key, _ in (*CURIE_SKELETAL_SEGMENTS, CURIE_SOFT_TISSUE)]


def _component(key: str) -> forms.ChoiceField:
    name, allowed = COMPONENTS[key]
    return forms.ChoiceField(label=name.capitalize(),
                             choices=[("", "—")] + [(r.value, r.value) for r in ComponentResponse if r in allowed])


class InrcForm(SafeForm):
    assessed_on = date_field(_("Assessed on"), required=True)
    primary = _component("primary")
    metastases = _component("metastases")
    marrow = _component("marrow")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
