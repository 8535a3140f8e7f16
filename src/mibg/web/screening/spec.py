"""What the screening form asks, as data: one entry per PatientSnapshot field, grouped as the snapshot is.

Field names in the form are snapshot paths ("diagnosis.kind", "labs.2.value"), so a validation error from
the snapshot model and a "missing" path from the eligibility rules both point at the right input, and
every input has an anchor ``f-<path>`` the result page links to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from mibg.core import vocabulary as v
from mibg.web.words import clinic_word


def _capital_word(value: str) -> str:
    word = clinic_word(value)
    return word[:1].upper() + word[1:]


#: A select's option: the clinic word starting with a capital, as a list of names does ("ANC", "Platelets",
#: "Hemoglobin", "Red cells", "G-CSF"), read in the request's language; the stored value stays the code.
_option_word = lazy(_capital_word, str)


def _choices(enum: type[Enum]) -> list[tuple[str, StrOrPromise]]:
    return [(m.value, _option_word(m.value)) for m in enum]


@dataclass(frozen=True)
class Input:
    name: str
    label: StrOrPromise  # the words are marked for translation (gettext_lazy): read in the request's language
    kind: str  # decimal | int | date | datetime | bool3 | check | choice | text
    choices: list[tuple[str, StrOrPromise]] = field(default_factory=list)
    unit: str = ""
    help: StrOrPromise = ""
    label_only: bool = False  # prefilled to guide entry (a lab row's test and unit): not an entry by itself


@dataclass(frozen=True)
class Group:
    path: str  # snapshot path of the object or list ("" for top-level values)
    title: StrOrPromise
    inputs: tuple[Input, ...]
    repeated: bool = False  # a list of objects: rows
    blank_rows: int = 0
    none_means_unrecorded: bool = False  # None ("not recorded") differs from an empty list ("none")
    help: StrOrPromise = ""
    section: str = ""  # the key of the form's section it belongs to (SECTIONS)


@dataclass(frozen=True)
class Section:
    """One section of the screening form, as the protocol record groups its criteria (issue 15): it is saved on its
    own and shows the results of the criteria whose protocol group is one of ``criteria_groups``."""

    key: str
    title: StrOrPromise
    criteria_groups: tuple[str, ...]  # the protocol record's group names (data, not shown as such)
    help: StrOrPromise = ""



#: The form's sections, in the protocol record's order of its criteria groups (haematology is organ function's).
SECTIONS: tuple[Section, ...] = (
    Section("disease", _("Diagnosis and disease"), ("Diagnosis and disease",), _("diagnosis, disease status, MIBG scans")),
    Section("patient", _("Patient"), ("Patient",), _("treatment dates, weight, performance status, consent")),
    Section("prior_therapy", _("Prior therapy"), ("Prior therapy",),
            _("systemic therapy and surgery, radiotherapy, cytokines, prior 131I-MIBG")),
    Section("stem_cells", _("Stem cells and the planned dose"), ("Stem cells",), _("stored products, planned mCi/kg")),
    Section("organ_function", _("Organ function and blood counts"), ("Organ function", "Haematology"),
            _("laboratory results, transfusions, lung and heart")),
    Section("exclusions", _("Exclusions"), ("Exclusions",),
            _("major organ disease, pregnancy, haemodialysis, infections, proteinuria")),
)

ATTESTATIONS = [
    ("life_expectancy_over_6_weeks", _("Life expectancy greater than 6 weeks (P4)"), "patient"),
    ("recovered_from_prior_toxicity", _("Fully recovered from the toxic effects of prior therapy (T1)"), "prior_therapy"),
    ("able_to_cooperate_with_radiation_safety", _("Able to cooperate with radiation safety restrictions (P2)"), "patient"),
    ("normal_lung_function", _("Normal lung function: no dyspnoea at rest, no exercise intolerance, no O2 (L1)"),
     "organ_function"),
    ("no_cardiac_dysfunction", _("No clinically significant cardiac dysfunction (C1)"), "organ_function"),
    ("no_major_organ_disease", _("No major organ disease compromising the ability to withstand therapy (X1)"),
     "exclusions"),
    ("significant_organ_impairment", _("Significant organ impairment present (X1: yes goes to the study chair)"),
     "exclusions"),
    ("cytopenia_due_to_marrow_metastasis", _("Cytopenia due to tumour in the bone marrow (H5: goes to the study chair)"),
     "organ_function"),
]

_ATTESTATION_INPUTS = (
    Input("value", _("Attested"), "bool3"),
    Input("by", _("By (clinician)"), "text"),
    Input("at", _("When"), "datetime"),
    Input("note", _("Note"), "text"),
)

GROUPS: tuple[Group, ...] = (
    Group("", _("Course and weight"), (
        Input("planned_treatment_date", _("Planned treatment date"), "date"),
        Input("planned_infusion_start", _("Planned infusion start"), "datetime", help=_("for the 24-hour cytokine rule (T4)")),
        Input("enrolment_date", _("Enrolment date"), "date", help=_("the MIBG scan window is counted back from it (product decision A9)")),
        Input("weight_kg", _("Weight"), "decimal", unit="kg"),
        Input("weight_measured_on", _("Weight measured on"), "date"),
    ), section="patient"),
    Group("", _("Planned dose"), (
        Input("planned_mci_per_kg", _("Planned dose"), "decimal", unit="mCi/kg", help=_("optional here; checked against the patient's dose limits (PD: 8-18, the 12 mCi/kg stem-cell gate, lifetime 60, pheo/PGL cap; product decision A26)")),
    ), section="stem_cells"),
    Group("diagnosis", _("Diagnosis"), (
        Input("kind", _("Diagnosis"), "choice", _choices(v.DiagnosisKind)),
        Input("diagnosed_on", _("Diagnosed on"), "date"),
        Input("histopathology_confirmed", _("Histopathology confirmed"), "bool3"),
        Input("urine_catecholamines_elevated", _("Urine catecholamines elevated"), "bool3"),
        Input("tumor_cells_in_bone_marrow", _("Typical tumour cells in bone marrow"), "bool3"),
    ), section="disease"),
    Group("disease_status", _("Disease status"), (
        Input("category", _("Status"), "choice", _choices(v.DiseaseStatusCategory)),
        Input("failure_to_respond_to_standard_therapy", _("Failure to respond to standard therapy"), "bool3"),
        Input("progressive_disease", _("Progressive disease"), "bool3"),
        Input("assessed_on", _("Assessed on"), "date"),
    ), section="disease"),
    Group("mibg_scans", _("MIBG scans"), (
        Input("scan_date", _("Scan date"), "date"),
        Input("avid", _("MIBG avid"), "bool3"),
        Input("evaluable_disease", _("Evaluable disease"), "bool3"),
    ), repeated=True, blank_rows=2, section="disease"),
    Group("anti_tumour_therapies", _("Anti-tumour therapy: systemic therapy and surgery"), (
        Input("description", _("Therapy"), "text"),
        Input("kind", _("Kind"), "choice", _choices(v.TherapyKind), help=_("systemic when left blank")),
        Input("last_dose_on", _("Ended on"), "date", help=_("last dose; day of the operation")),
    ), repeated=True, blank_rows=2, none_means_unrecorded=True,
        help=_("radiotherapy to any field and prior 131I-MIBG count as anti-tumour therapy too (T2, the scan, product decision A21)"), section="prior_therapy"),
    Group("radiotherapy", _("Radiotherapy"), (
        Input("field", _("Field"), "choice", _choices(v.RadiotherapyField)),
        Input("completed_on", _("Completed on"), "date"),
    ), repeated=True, blank_rows=2, none_means_unrecorded=True, section="prior_therapy"),
    Group("cytokines", _("Cytokines"), (
        Input("agent", _("Agent"), "choice", _choices(v.Cytokine)),
        Input("last_dose_at", _("Last dose at"), "datetime"),
    ), repeated=True, blank_rows=2, none_means_unrecorded=True, section="prior_therapy"),
    Group("prior_mibg_courses", _("Prior 131I-MIBG courses"), (
        Input("infusion_date", _("Infusion date"), "date"),
        Input("mci_per_kg", _("Administered"), "decimal", unit="mCi/kg"),
        Input("weight_kg", _("Weight then"), "decimal", unit="kg"),
        Input("total_mci", _("Total"), "decimal", unit="mCi"),
    ), repeated=True, blank_rows=1, help=_("courses given here are filled in from their administration records"), section="prior_therapy"),
    Group("stem_cell_products", _("Stored stem-cell products"), (
        Input("product_type", _("Type"), "choice", _choices(v.StemCellProductType)),
        Input("purged", _("Purged"), "check"),
        Input("total_cd34_cells", _("Total CD34+ cells"), "decimal", unit="cells", help=_("e.g. 1.1E+8")),
        Input("total_mononuclear_cells", _("Total mononuclear cells"), "decimal", unit="cells"),
        Input("collected_on", _("Collected on"), "date"),
        Input("label", _("Label"), "text"),
        Input("infused_on", _("Infused on"), "date", help=_("a product given back no longer counts (product decision A24)")),
    ), repeated=True, blank_rows=1,
        help=_("totals; products of one kind not infused are summed, per kg of a weight at most 7 days old (product decisions A15, A20, A24)"), section="stem_cells"),
    Group("labs", _("Laboratory results"), (
        Input("test", _("Test"), "choice", _choices(v.LabTest), label_only=True),
        Input("value", _("Value"), "decimal"),
        Input("unit", _("Unit"), "text", help=_("as reported, e.g. 10^9/L, /uL, g/dL, mg/dL, umol/L, U/L"), label_only=True),
        Input("lln", _("LLN"), "decimal", help=_("lower limit of normal, same unit")),
        Input("uln", _("ULN"), "decimal", help=_("upper limit of normal, same unit")),
        Input("collected_at", _("Collected at"), "datetime"),
    ), repeated=True, blank_rows=2, help=_("one row per result; add rows for repeated counts"), section="organ_function"),
    Group("transfusions", _("Transfusions"), (
        Input("product", _("Product"), "choice", _choices(v.TransfusionProduct)),
        Input("given_at", _("Given at"), "datetime"),
    ), repeated=True, blank_rows=2, section="organ_function"),
    Group("performance", _("Performance status"), (
        Input("scale", _("Scale"), "choice", _choices(v.PerformanceScale), help=_("Lansky to 16 years, Karnofsky above (product decision A5)")),
        Input("score", _("Score"), "int", unit="%"),
        Input("assessed_on", _("Assessed on"), "date"),
    ), section="patient"),
    Group("pregnancy", _("Pregnancy"), (
        Input("childbearing_potential", _("Childbearing potential"), "bool3"),
        Input("pregnant", _("Pregnant"), "bool3"),
        Input("lactating", _("Lactating"), "bool3"),
        Input("effective_contraception", _("Effective contraception"), "bool3"),
        Input("assessed_on", _("Assessed on"), "date"),
    ), section="exclusions"),
    Group("", _("Haemodialysis"), (Input("on_hemodialysis", _("On haemodialysis"), "bool3"),), section="exclusions"),
    Group("infection_screen", _("Infection screen"), (Input("assessed_on", _("Assessed on"), "date"),), section="exclusions"),
    Group("infection_screen.infections", _("Active or recent infections"), (
        Input("description", _("Infection"), "text"),
        Input("ctcae_grade", _("CTCAE grade"), "int"),
        Input("active", _("Active"), "check"),
    ), repeated=True, blank_rows=1, section="exclusions"),
    Group("proteinuria", _("Proteinuria"), (
        Input("urinalysis_protein", _("Urinalysis protein"), "choice", _choices(v.UrinalysisProtein)),
        Input("urinalysis_on", _("Urinalysis on"), "date"),
        Input("urine_24h_protein_mg", _("24-hour urine protein"), "decimal", unit="mg"),
        Input("urine_24h_reference_upper_mg", _("Reference upper limit"), "decimal", unit="mg"),
        Input("urine_24h_collected_on", _("24-hour collection on"), "date"),
    ), section="exclusions"),
    Group("consent", _("Informed consent"), (
        Input("signed", _("Signed"), "bool3"),
        Input("signed_on", _("Signed on"), "date"),
        Input("signed_by", _("Signed by"), "text", help=_("patient and/or legal guardian")),
    ), section="patient"),
    *(Group(f"attestations.{name}", title, _ATTESTATION_INPUTS, section=section) for name, title, section in ATTESTATIONS),
)
_ORDER = [section.key for section in SECTIONS]
#: The groups in the order of their sections (the page shows them so; a stable sort keeps the record's order within).
GROUPS = tuple(sorted(GROUPS, key=lambda group: _ORDER.index(group.section)))
SECTION_BY_KEY = {section.key: section for section in SECTIONS}


def groups_of(key: str) -> tuple[Group, ...]:
    """The groups of the section ``key``."""
    return tuple(group for group in GROUPS if group.section == key)


def section_of(path: str) -> str:
    """The key of the section where the snapshot ``path`` is entered ("labs.anc" -> "organ_function")."""
    parts = [p for p in path.split(".") if not p.isdigit()]
    best, depth = "", -1
    for group in GROUPS:
        names = {item.name for item in group.inputs}
        prefix = group.path.split(".") if group.path else []
        if parts[:len(prefix)] == prefix and len(prefix) > depth and (
                len(parts) == len(prefix) or parts[len(prefix)] in names or group.repeated or group.path == "labs"):
            best, depth = group.section, len(prefix)
    return best


def _labels() -> dict[str, StrOrPromise]:
    labels: dict[str, StrOrPromise] = {}
    for group in GROUPS:
        if group.path:
            labels[group.path] = group.title
        for item in group.inputs:
            key = f"{group.path}.{item.name}" if group.path else item.name
            labels[key] = _titled(group.title, item.label)
    return labels


def _joined(title: StrOrPromise, label: StrOrPromise) -> str:
    """``Diagnosis: Diagnosed on``; a label that repeats its group's title once (``Diagnosis``)."""
    return str(label) if str(label) == str(title) else f"{title}: {label}"


#: Read when shown, in the request's language (the words are not translated at import).
_titled = lazy(_joined, str)


_LABELS = _labels()


def label_of(path: str) -> str:
    """A snapshot path as the screening form names it: ``labs.anc`` -> "Laboratory results: ANC",
    ``mibg_scans.0.scan_date`` -> "MIBG scans: Scan date" (the result page shows these, never the path)."""
    if path in _LABELS:
        return str(_LABELS[path])
    parts = path.split(".")
    if parts[0] == "labs" and len(parts) == 2:
        return f"{_LABELS['labs']}: {clinic_word(parts[1])}"
    without_index = ".".join(p for p in parts if not p.isdigit())
    if without_index in _LABELS:
        return str(_LABELS[without_index])
    return " › ".join(clinic_word(p) for p in parts if not p.isdigit()).capitalize()
