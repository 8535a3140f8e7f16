"""The clinic's controlled vocabulary: diagnoses, lab tests, products, scales. Plain enums, fast to import."""

from __future__ import annotations

from enum import StrEnum


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class DiagnosisKind(StrEnum):
    NEUROBLASTOMA = "neuroblastoma"
    PHEOCHROMOCYTOMA = "pheochromocytoma"
    PARAGANGLIOMA = "paraganglioma"
    RELATED_TUMOR = "related_tumor"

    @property
    def is_pheo_or_paraganglioma(self) -> bool:
        return self is not DiagnosisKind.NEUROBLASTOMA


class DiseaseStatusCategory(StrEnum):
    REFRACTORY = "refractory"
    RELAPSED = "relapsed"
    PROGRESSIVE = "progressive"
    METASTATIC = "metastatic"


class LabTest(StrEnum):
    ANC = "anc"
    PLATELETS = "platelets"
    HEMOGLOBIN = "hemoglobin"
    BILIRUBIN = "bilirubin"
    AST = "ast"
    ALT = "alt"
    CREATININE = "creatinine"


class TransfusionProduct(StrEnum):
    PLATELETS = "platelets"
    RED_CELLS = "red_cells"
    GRANULOCYTES = "granulocytes"


class TherapyKind(StrEnum):
    """What kind of anti-tumour therapy an entry of ``anti_tumour_therapies`` is (decisions.md A21). Radiotherapy
    (``radiotherapy``) and 131I-MIBG (``prior_mibg_courses``) are recorded in their own lists and count too."""

    SYSTEMIC = "systemic"
    SURGERY = "surgery"
    OTHER = "other"


class RadiotherapyField(StrEnum):
    CRANIOSPINAL = "craniospinal"
    TOTAL_ABDOMINAL = "total_abdominal"
    WHOLE_LUNG = "whole_lung"
    TOTAL_BODY = "total_body"
    OTHER = "other"


class Cytokine(StrEnum):
    G_CSF = "g_csf"
    GM_CSF = "gm_csf"
    IL_6 = "il_6"
    ERYTHROPOIETIN = "erythropoietin"
    PEGFILGRASTIM = "pegfilgrastim"
    DARBEPOETIN = "darbepoetin"


class StemCellProductType(StrEnum):
    PBSC = "pbsc"
    BONE_MARROW = "bone_marrow"


class PerformanceScale(StrEnum):
    LANSKY = "lansky"
    KARNOFSKY = "karnofsky"


class UrinalysisProtein(StrEnum):
    NEGATIVE = "negative"
    TRACE = "trace"
    ONE_PLUS = "1+"
    TWO_PLUS = "2+"
    THREE_PLUS = "3+"
    FOUR_PLUS = "4+"


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "Cytokine",
    "DiagnosisKind",
    "DiseaseStatusCategory",
    "LabTest",
    "PerformanceScale",
    "RadiotherapyField",
    "Sex",
    "StemCellProductType",
    "TherapyKind",
    "TransfusionProduct",
    "UrinalysisProtein",
]
