"""Code systems and codes of the FHIR R4 export, each with where it was checked.

Standard systems (FHIR R4 §4.2 "Using Codes", terminology.hl7.org):
LOINC http://loinc.org, UCUM http://unitsofmeasure.org, SNOMED CT http://snomed.info/sct.

Project-local URIs (``urn:mibg:...``) name what no standard code covers here: the exposure-rate reading at
1 m, the whole-body absorbed dose, the CTCAE grade and the dose per kg. A site can replace them; the
importer reads only these and the standard codes.
"""

from __future__ import annotations

from mibg.core.labs import LABS

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"

#: ClinicalTrials.gov identifier system (HL7 THO NamingSystem "ClinicalTrials-Gov").
CLINICALTRIALS_GOV = "https://clinicaltrials.gov"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
#: HL7 v3 ObservationInterpretation (FHIR R4): L low, N normal, H high; the flag of a thyroid value against the site's
#: reference range (mibg.core.clinical_rows; issue 12).
OBSERVATION_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
INTERPRETATION_CODES = {"low": ("L", "Low"), "normal": ("N", "Normal"), "high": ("H", "High")}
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DOSE_RATE_TYPE = "http://terminology.hl7.org/CodeSystem/dose-rate-type"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
#: The R4 seriousness codes with their displays. Codes are case-sensitive: "serious" is not a code.
AE_SERIOUSNESS_CODES = {"Serious": "Serious", "Non-serious": "Non-serious"}

#: Project-local code system and extensions.
MIBG_CODES = "urn:mibg:fhir:CodeSystem:observations"
EXT_CTCAE_GRADE = "urn:mibg:fhir:StructureDefinition:ctcae-v5-grade"
EXT_DOSE_PER_KG = "urn:mibg:fhir:StructureDefinition:dose-per-body-weight"
DEFAULT_MRN_SYSTEM = "urn:mibg:fhir:NamingSystem:mrn"
#: The code of a supportive-care order in the protocol's care plan (care_plan.orders[].code, issue 13).
ORDER_CODE_SYSTEM = "urn:mibg:fhir:CodeSystem:care-plan-orders"

CODE_EXPOSURE_RATE = "exposure-rate-1m"
CODE_WHOLE_BODY_DOSE = "whole-body-absorbed-dose"
CODE_TIAC = "time-integrated-activity-coefficient"
CODE_EFFECTIVE_HALF_LIFE = "effective-half-life"
CODE_ELECTRON_ONLY = "whole-body-dose-electron-only"
CODE_PHOTON_FRACTION = "photon-absorbed-fraction"
CODE_BODY_MASS = "body-mass-used"
CODE_CONSTANT = "constant"
CODE_STEM_CELL_INFUSION = "autologous-stem-cell-infusion"
EXT_CD34_PER_KG = "urn:mibg:fhir:StructureDefinition:cd34-per-kg"
EXT_AE_DESCRIPTION = "urn:mibg:fhir:StructureDefinition:adverse-event-description"

#: LOINC codes of the laboratory tests (mibg.core.labs) with their LOINC long common names.
LAB_LOINC_DISPLAY = {
    "751-8": "Neutrophils [#/volume] in Blood by Automated count",
    "777-3": "Platelets [#/volume] in Blood by Automated count",
    "718-7": "Hemoglobin [Mass/volume] in Blood",
    "1975-2": "Bilirubin.total [Mass/volume] in Serum or Plasma",
    "1920-8": "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
    "1742-6": "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
    "2160-0": "Creatinine [Mass/volume] in Serum or Plasma",
    "3016-3": "Thyrotropin [Units/volume] in Serum or Plasma",
    "3024-7": "Thyroxine (T4) free [Mass/volume] in Serum or Plasma",
    "8480-6": "Systolic blood pressure",
    "8462-4": "Diastolic blood pressure",
}
if set(LAB_LOINC_DISPLAY) != {d.loinc for d in LABS.values()}:
    raise RuntimeError("the LOINC display table is out of step with mibg.core.labs")

LOINC_BODY_WEIGHT = ("29463-7", "Body weight")

#: SNOMED CT 432328008 |Neuroblastoma (disorder)| (checked against MONDO's cross-references and BioPortal).
SCT_NEUROBLASTOMA = ("432328008", "Neuroblastoma (disorder)")
#: SNOMED CT 47625008 |Intravenous route| (DICOM CID 11; pydicom concept dictionary).
SCT_INTRAVENOUS = ("47625008", "Intravenous route")
#: SNOMED CT 395789007 |Metaiodobenzylguanidine[131I] (substance)| (DICOM CID 25; pydicom concept dictionary).
SCT_MIBG_I131 = ("395789007", "Metaiodobenzylguanidine[131I] (substance)")
#: SNOMED CT 399315003 |Radionuclide therapy (procedure)|.
SCT_RADIONUCLIDE_THERAPY = ("399315003", "Radionuclide therapy (procedure)")

MEDICATION_TEXT = "Iobenguane I-131 (131I-MIBG)"
STEM_CELL_PROCEDURE_TEXT = "Autologous haematopoietic stem-cell infusion (rescue after 131I-MIBG)"


def ctcae_to_severity(grade: int) -> str:
    """R4 AdverseEvent.severity (mild | moderate | severe) from a CTCAE grade; the grade itself travels in
    the ``EXT_CTCAE_GRADE`` extension because the mapping loses information."""
    return {1: "mild", 2: "moderate"}.get(grade, "severe")
