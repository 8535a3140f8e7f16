"""What the screening form asks, as data: one entry per PatientSnapshot field, grouped as the snapshot is.

Field names in the form are snapshot paths ("diagnosis.kind", "labs.2.value"), so a validation error from
the snapshot model and a "missing" path from the eligibility rules both point at the right input, and
every input has an anchor ``f-<path>`` the result page links to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from mibg.core import vocabulary as v
from mibg.web.words import clinic_word


def _choices(enum: type[Enum]) -> list[tuple[str, str]]:
    return [(m.value, clinic_word(m.value)) for m in enum]


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    kind: str  # decimal | int | date | datetime | bool3 | check | choice | text
    choices: list[tuple[str, str]] = field(default_factory=list)
    unit: str = ""
    help: str = ""
    label_only: bool = False  # prefilled to guide entry (a lab row's test and unit): not an entry by itself


@dataclass(frozen=True)
class Group:
    path: str  # snapshot path of the object or list ("" for top-level values)
    title: str
    inputs: tuple[Input, ...]
    repeated: bool = False  # a list of objects: rows
    blank_rows: int = 0
    none_means_unrecorded: bool = False  # None ("not recorded") differs from an empty list ("none")
    help: str = ""
    section: str = ""  # the key of the form's section it belongs to (SECTIONS)


@dataclass(frozen=True)
class Section:
    """One section of the screening form, as the protocol record groups its criteria (issue 15): it is saved on its
    own and shows the results of the criteria whose protocol group is one of ``criteria_groups``."""

    key: str
    title: str
    criteria_groups: tuple[str, ...]
    help: str = ""



#: The form's sections, in the protocol record's order of its criteria groups (haematology is organ function's).
SECTIONS: tuple[Section, ...] = (
    Section("disease", "Diagnosis and disease", ("Diagnosis and disease",), "diagnosis, disease status, MIBG scans"),
    Section("patient", "Patient", ("Patient",), "treatment dates, weight, performance status, consent"),
    Section("prior_therapy", "Prior therapy", ("Prior therapy",),
            "systemic therapy and surgery, radiotherapy, cytokines, prior 131I-MIBG"),
    Section("stem_cells", "Stem cells and the planned dose", ("Stem cells",), "stored products, planned mCi/kg"),
    Section("organ_function", "Organ function and blood counts", ("Organ function", "Haematology"),
            "laboratory results, transfusions, lung and heart"),
    Section("exclusions", "Exclusions", ("Exclusions",),
            "major organ disease, pregnancy, haemodialysis, infections, proteinuria"),
)

ATTESTATIONS = [
    ("life_expectancy_over_6_weeks", "Life expectancy greater than 6 weeks (P4)", "patient"),
    ("recovered_from_prior_toxicity", "Fully recovered from the toxic effects of prior therapy (T1)", "prior_therapy"),
    ("able_to_cooperate_with_radiation_safety", "Able to cooperate with radiation safety restrictions (P2)", "patient"),
    ("normal_lung_function", "Normal lung function: no dyspnoea at rest, no exercise intolerance, no O2 (L1)",
     "organ_function"),
    ("no_cardiac_dysfunction", "No clinically significant cardiac dysfunction (C1)", "organ_function"),
    ("no_major_organ_disease", "No major organ disease compromising the ability to withstand therapy (X1)",
     "exclusions"),
    ("significant_organ_impairment", "Significant organ impairment present (X1: yes goes to the study chair)",
     "exclusions"),
    ("cytopenia_due_to_marrow_metastasis", "Cytopenia due to tumour in the bone marrow (H5: goes to the study chair)",
     "organ_function"),
]

_ATTESTATION_INPUTS = (
    Input("value", "Attested", "bool3"),
    Input("by", "By (clinician)", "text"),
    Input("at", "When", "datetime"),
    Input("note", "Note", "text"),
)

GROUPS: tuple[Group, ...] = (
    Group("", "Course and weight", (
        Input("planned_treatment_date", "Planned treatment date", "date"),
        Input("planned_infusion_start", "Planned infusion start", "datetime", help="for the 24-hour cytokine rule (T4)"),
        Input("enrolment_date", "Enrolment date", "date", help="the MIBG scan window is counted back from it (product decision A9)"),
        Input("weight_kg", "Weight", "decimal", unit="kg"),
        Input("weight_measured_on", "Weight measured on", "date"),
    ), section="patient"),
    Group("", "Planned dose", (
        Input("planned_mci_per_kg", "Planned dose", "decimal", unit="mCi/kg", help="optional here; checked against the patient's dose limits (PD: 8-18, the 12 mCi/kg stem-cell gate, lifetime 60, pheo/PGL cap; product decision A26)"),
    ), section="stem_cells"),
    Group("diagnosis", "Diagnosis", (
        Input("kind", "Diagnosis", "choice", _choices(v.DiagnosisKind)),
        Input("diagnosed_on", "Diagnosed on", "date"),
        Input("histopathology_confirmed", "Histopathology confirmed", "bool3"),
        Input("urine_catecholamines_elevated", "Urine catecholamines elevated", "bool3"),
        Input("tumor_cells_in_bone_marrow", "Typical tumour cells in bone marrow", "bool3"),
    ), section="disease"),
    Group("disease_status", "Disease status", (
        Input("category", "Status", "choice", _choices(v.DiseaseStatusCategory)),
        Input("failure_to_respond_to_standard_therapy", "Failure to respond to standard therapy", "bool3"),
        Input("progressive_disease", "Progressive disease", "bool3"),
        Input("assessed_on", "Assessed on", "date"),
    ), section="disease"),
    Group("mibg_scans", "MIBG scans", (
        Input("scan_date", "Scan date", "date"),
        Input("avid", "MIBG avid", "bool3"),
        Input("evaluable_disease", "Evaluable disease", "bool3"),
    ), repeated=True, blank_rows=2, section="disease"),
    Group("anti_tumour_therapies", "Anti-tumour therapy: systemic therapy and surgery", (
        Input("description", "Therapy", "text"),
        Input("kind", "Kind", "choice", _choices(v.TherapyKind), help="systemic when left blank"),
        Input("last_dose_on", "Ended on", "date", help="last dose; day of the operation"),
    ), repeated=True, blank_rows=2, none_means_unrecorded=True,
        help="radiotherapy to any field and prior 131I-MIBG count as anti-tumour therapy too (T2, the scan, product decision A21)", section="prior_therapy"),
    Group("radiotherapy", "Radiotherapy", (
        Input("field", "Field", "choice", _choices(v.RadiotherapyField)),
        Input("completed_on", "Completed on", "date"),
    ), repeated=True, blank_rows=2, none_means_unrecorded=True, section="prior_therapy"),
    Group("cytokines", "Cytokines", (
        Input("agent", "Agent", "choice", _choices(v.Cytokine)),
        Input("last_dose_at", "Last dose at", "datetime"),
    ), repeated=True, blank_rows=2, none_means_unrecorded=True, section="prior_therapy"),
    Group("prior_mibg_courses", "Prior 131I-MIBG courses", (
        Input("infusion_date", "Infusion date", "date"),
        Input("mci_per_kg", "Administered", "decimal", unit="mCi/kg"),
        Input("weight_kg", "Weight then", "decimal", unit="kg"),
        Input("total_mci", "Total", "decimal", unit="mCi"),
    ), repeated=True, blank_rows=1, help="courses given here are filled in from their administration records", section="prior_therapy"),
    Group("stem_cell_products", "Stored stem-cell products", (
        Input("product_type", "Type", "choice", _choices(v.StemCellProductType)),
        Input("purged", "Purged", "check"),
        Input("total_cd34_cells", "Total CD34+ cells", "decimal", unit="cells", help="e.g. 1.1E+8"),
        Input("total_mononuclear_cells", "Total mononuclear cells", "decimal", unit="cells"),
        Input("collected_on", "Collected on", "date"),
        Input("label", "Label", "text"),
        Input("infused_on", "Infused on", "date", help="a product given back no longer counts (product decision A24)"),
    ), repeated=True, blank_rows=1,
        help="totals; products of one kind not infused are summed, per kg of a weight at most 7 days old (product decisions A15, A20, A24)", section="stem_cells"),
    Group("labs", "Laboratory results", (
        Input("test", "Test", "choice", _choices(v.LabTest), label_only=True),
        Input("value", "Value", "decimal"),
        Input("unit", "Unit", "text", help="as reported, e.g. 10^9/L, /uL, g/dL, mg/dL, umol/L, U/L", label_only=True),
        Input("lln", "LLN", "decimal", help="lower limit of normal, same unit"),
        Input("uln", "ULN", "decimal", help="upper limit of normal, same unit"),
        Input("collected_at", "Collected at", "datetime"),
    ), repeated=True, blank_rows=2, help="one row per result; add rows for repeated counts", section="organ_function"),
    Group("transfusions", "Transfusions", (
        Input("product", "Product", "choice", _choices(v.TransfusionProduct)),
        Input("given_at", "Given at", "datetime"),
    ), repeated=True, blank_rows=2, section="organ_function"),
    Group("performance", "Performance status", (
        Input("scale", "Scale", "choice", _choices(v.PerformanceScale), help="Lansky to 16 years, Karnofsky above (product decision A5)"),
        Input("score", "Score", "int", unit="%"),
        Input("assessed_on", "Assessed on", "date"),
    ), section="patient"),
    Group("pregnancy", "Pregnancy", (
        Input("childbearing_potential", "Childbearing potential", "bool3"),
        Input("pregnant", "Pregnant", "bool3"),
        Input("lactating", "Lactating", "bool3"),
        Input("effective_contraception", "Effective contraception", "bool3"),
        Input("assessed_on", "Assessed on", "date"),
    ), section="exclusions"),
    Group("", "Haemodialysis", (Input("on_hemodialysis", "On haemodialysis", "bool3"),), section="exclusions"),
    Group("infection_screen", "Infection screen", (Input("assessed_on", "Assessed on", "date"),), section="exclusions"),
    Group("infection_screen.infections", "Active or recent infections", (
        Input("description", "Infection", "text"),
        Input("ctcae_grade", "CTCAE grade", "int"),
        Input("active", "Active", "check"),
    ), repeated=True, blank_rows=1, section="exclusions"),
    Group("proteinuria", "Proteinuria", (
        Input("urinalysis_protein", "Urinalysis protein", "choice", _choices(v.UrinalysisProtein)),
        Input("urinalysis_on", "Urinalysis on", "date"),
        Input("urine_24h_protein_mg", "24-hour urine protein", "decimal", unit="mg"),
        Input("urine_24h_reference_upper_mg", "Reference upper limit", "decimal", unit="mg"),
        Input("urine_24h_collected_on", "24-hour collection on", "date"),
    ), section="exclusions"),
    Group("consent", "Informed consent", (
        Input("signed", "Signed", "bool3"),
        Input("signed_on", "Signed on", "date"),
        Input("signed_by", "Signed by", "text", help="patient and/or legal guardian"),
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


def _labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for group in GROUPS:
        if group.path:
            labels[group.path] = group.title
        for item in group.inputs:
            key = f"{group.path}.{item.name}" if group.path else item.name
            labels[key] = item.label if item.label == group.title else f"{group.title}: {item.label}"
    return labels


_LABELS = _labels()


def label_of(path: str) -> str:
    """A snapshot path as the screening form names it: ``labs.anc`` -> "Laboratory results: ANC",
    ``mibg_scans.0.scan_date`` -> "MIBG scans: Scan date" (the result page shows these, never the path)."""
    if path in _LABELS:
        return _LABELS[path]
    parts = path.split(".")
    if parts[0] == "labs" and len(parts) == 2:
        return f"Laboratory results: {clinic_word(parts[1])}"
    without_index = ".".join(p for p in parts if not p.isdigit())
    if without_index in _LABELS:
        return _LABELS[without_index]
    return " › ".join(clinic_word(p) for p in parts if not p.isdigit()).capitalize()
