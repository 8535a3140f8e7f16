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



ATTESTATIONS = [
    ("life_expectancy_over_6_weeks", "Life expectancy greater than 6 weeks (P4)"),
    ("recovered_from_prior_toxicity", "Fully recovered from the toxic effects of prior therapy (T1)"),
    ("able_to_cooperate_with_radiation_safety", "Able to cooperate with radiation safety restrictions (P2)"),
    ("normal_lung_function", "Normal lung function: no dyspnoea at rest, no exercise intolerance, no O2 (L1)"),
    ("no_cardiac_dysfunction", "No clinically significant cardiac dysfunction (C1)"),
    ("no_major_organ_disease", "No major organ disease compromising the ability to withstand therapy (X1)"),
    ("significant_organ_impairment", "Significant organ impairment present (X1: yes goes to the study chair)"),
    ("cytopenia_due_to_marrow_metastasis", "Cytopenia due to tumour in the bone marrow (H5: goes to the study chair)"),
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
        Input("planned_mci_per_kg", "Planned dose", "decimal", unit="mCi/kg", help="optional here; checked against the patient's dose limits (PD: 8-18, the 12 mCi/kg stem-cell gate, lifetime 60, pheo/PGL cap; product decision A26)"),
    )),
    Group("diagnosis", "Diagnosis", (
        Input("kind", "Diagnosis", "choice", _choices(v.DiagnosisKind)),
        Input("diagnosed_on", "Diagnosed on", "date"),
        Input("histopathology_confirmed", "Histopathology confirmed", "bool3"),
        Input("urine_catecholamines_elevated", "Urine catecholamines elevated", "bool3"),
        Input("tumor_cells_in_bone_marrow", "Typical tumour cells in bone marrow", "bool3"),
    )),
    Group("disease_status", "Disease status", (
        Input("category", "Status", "choice", _choices(v.DiseaseStatusCategory)),
        Input("failure_to_respond_to_standard_therapy", "Failure to respond to standard therapy", "bool3"),
        Input("progressive_disease", "Progressive disease", "bool3"),
        Input("assessed_on", "Assessed on", "date"),
    )),
    Group("mibg_scans", "MIBG scans", (
        Input("scan_date", "Scan date", "date"),
        Input("avid", "MIBG avid", "bool3"),
        Input("evaluable_disease", "Evaluable disease", "bool3"),
    ), repeated=True, blank_rows=2),
    Group("anti_tumour_therapies", "Anti-tumour therapy: systemic therapy and surgery", (
        Input("description", "Therapy", "text"),
        Input("kind", "Kind", "choice", _choices(v.TherapyKind), help="systemic when left blank"),
        Input("last_dose_on", "Ended on", "date", help="last dose; day of the operation"),
    ), repeated=True, blank_rows=2, none_means_unrecorded=True,
        help="radiotherapy to any field and prior 131I-MIBG count as anti-tumour therapy too (T2, the scan, product decision A21)"),
    Group("radiotherapy", "Radiotherapy", (
        Input("field", "Field", "choice", _choices(v.RadiotherapyField)),
        Input("completed_on", "Completed on", "date"),
    ), repeated=True, blank_rows=2, none_means_unrecorded=True),
    Group("cytokines", "Cytokines", (
        Input("agent", "Agent", "choice", _choices(v.Cytokine)),
        Input("last_dose_at", "Last dose at", "datetime"),
    ), repeated=True, blank_rows=2, none_means_unrecorded=True),
    Group("prior_mibg_courses", "Prior 131I-MIBG courses", (
        Input("infusion_date", "Infusion date", "date"),
        Input("mci_per_kg", "Administered", "decimal", unit="mCi/kg"),
        Input("weight_kg", "Weight then", "decimal", unit="kg"),
        Input("total_mci", "Total", "decimal", unit="mCi"),
    ), repeated=True, blank_rows=1, help="courses given here are filled in from their administration records"),
    Group("stem_cell_products", "Stored stem-cell products", (
        Input("product_type", "Type", "choice", _choices(v.StemCellProductType)),
        Input("purged", "Purged", "check"),
        Input("total_cd34_cells", "Total CD34+ cells", "decimal", unit="cells", help="e.g. 1.1E+8"),
        Input("total_mononuclear_cells", "Total mononuclear cells", "decimal", unit="cells"),
        Input("collected_on", "Collected on", "date"),
        Input("label", "Label", "text"),
        Input("infused_on", "Infused on", "date", help="a product given back no longer counts (product decision A24)"),
    ), repeated=True, blank_rows=1,
        help="totals; products of one kind not infused are summed, per kg of a weight at most 7 days old (product decisions A15, A20, A24)"),
    Group("labs", "Laboratory results", (
        Input("test", "Test", "choice", _choices(v.LabTest), label_only=True),
        Input("value", "Value", "decimal"),
        Input("unit", "Unit", "text", help="as reported, e.g. 10^9/L, /uL, g/dL, mg/dL, umol/L, U/L", label_only=True),
        Input("lln", "LLN", "decimal", help="lower limit of normal, same unit"),
        Input("uln", "ULN", "decimal", help="upper limit of normal, same unit"),
        Input("collected_at", "Collected at", "datetime"),
    ), repeated=True, blank_rows=2, help="one row per result; add rows for repeated counts"),
    Group("transfusions", "Transfusions", (
        Input("product", "Product", "choice", _choices(v.TransfusionProduct)),
        Input("given_at", "Given at", "datetime"),
    ), repeated=True, blank_rows=2),
    Group("performance", "Performance status", (
        Input("scale", "Scale", "choice", _choices(v.PerformanceScale), help="Lansky to 16 years, Karnofsky above (product decision A5)"),
        Input("score", "Score", "int", unit="%"),
        Input("assessed_on", "Assessed on", "date"),
    )),
    Group("pregnancy", "Pregnancy", (
        Input("childbearing_potential", "Childbearing potential", "bool3"),
        Input("pregnant", "Pregnant", "bool3"),
        Input("lactating", "Lactating", "bool3"),
        Input("effective_contraception", "Effective contraception", "bool3"),
        Input("assessed_on", "Assessed on", "date"),
    )),
    Group("", "Haemodialysis", (Input("on_hemodialysis", "On haemodialysis", "bool3"),)),
    Group("infection_screen", "Infection screen", (Input("assessed_on", "Assessed on", "date"),)),
    Group("infection_screen.infections", "Active or recent infections", (
        Input("description", "Infection", "text"),
        Input("ctcae_grade", "CTCAE grade", "int"),
        Input("active", "Active", "check"),
    ), repeated=True, blank_rows=1),
    Group("proteinuria", "Proteinuria", (
        Input("urinalysis_protein", "Urinalysis protein", "choice", _choices(v.UrinalysisProtein)),
        Input("urinalysis_on", "Urinalysis on", "date"),
        Input("urine_24h_protein_mg", "24-hour urine protein", "decimal", unit="mg"),
        Input("urine_24h_reference_upper_mg", "Reference upper limit", "decimal", unit="mg"),
        Input("urine_24h_collected_on", "24-hour collection on", "date"),
    )),
    Group("consent", "Informed consent", (
        Input("signed", "Signed", "bool3"),
        Input("signed_on", "Signed on", "date"),
        Input("signed_by", "Signed by", "text", help="patient and/or legal guardian"),
    )),
    *(Group(f"attestations.{name}", title, _ATTESTATION_INPUTS) for name, title in ATTESTATIONS),
)


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
