"""The protocol as FHIR R4 (issue 13 §4): a PlanDefinition of the course's actions with their timing, and a
ResearchStudy with the record's identifiers, sponsor, investigator, site, status, conditions and criteria.

``mibg protocol export --fhir`` prints both in a Bundle of type collection; the study record page offers the same
file. The PlanDefinition is built from the protocol definition (every number and time is the definition's, with its
rule ID and source); the ResearchStudy from the ClinicalTrials.gov record (the imported one, else the bundled one),
its ``enrollment`` a contained Group whose characteristics are the definition's criteria, coded where a standard
code fits (SNOMED CT for the diagnosis, LOINC 30525-0 "Age" with a range) and as text otherwise.

Validated with the fhir.resources R4B model classes, as the course Bundle is (mibg.reports.fhir.export: the package
ships no 4.0.1 models; the elements used here are the same in R4 and R4B).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from mibg.protocol.model import ProtocolDefinition
from mibg.protocol.study_record import StudyRecord
from mibg.reports.errors import ReportInputError
from mibg.reports.fhir import codes as c
from mibg.reports.fhir.jsonio import dumps
from mibg.reports.fhir.resources import coding, validate

Resource = dict[str, Any]

PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
STUDY_PHASE = "http://terminology.hl7.org/CodeSystem/research-study-phase"
STUDY_PRIM_PURPOSE = "http://terminology.hl7.org/CodeSystem/research-study-prim-purp-type"
LOINC_AGE = ("30525-0", "Age")

#: ClinicalTrials.gov overallStatus -> R4 ResearchStudy.status (hl7.org/fhir/R4/valueset-research-study-status.html).
#: Product choice where the two vocabularies do not meet one to one; UNKNOWN (the registry has not heard from the
#: sponsor for two years) is "in-review": nobody should read it as open.
STATUS = {
    "RECRUITING": "active", "AVAILABLE": "active", "ENROLLING_BY_INVITATION": "active",
    "NOT_YET_RECRUITING": "approved", "ACTIVE_NOT_RECRUITING": "closed-to-accrual",
    "NO_LONGER_AVAILABLE": "closed-to-accrual", "TEMPORARILY_NOT_AVAILABLE": "temporarily-closed-to-accrual",
    "SUSPENDED": "temporarily-closed-to-accrual", "COMPLETED": "completed", "APPROVED_FOR_MARKETING": "completed",
    "TERMINATED": "administratively-completed", "WITHDRAWN": "withdrawn", "WITHHELD": "withdrawn",
    "UNKNOWN": "in-review",
}
#: ClinicalTrials.gov phases -> R4 research-study-phase codes.
PHASES = {"NA": "n-a", "EARLY_PHASE1": "early-phase-1", "PHASE1": "phase-1", "PHASE2": "phase-2", "PHASE3": "phase-3",
          "PHASE4": "phase-4"}


def _id(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mibg:protocol:{key}"))


def study_status(record: StudyRecord) -> str:
    try:
        return STATUS[record.status]
    except KeyError:
        raise ReportInputError("protocolSection.statusModule.overallStatus",
                               f"'{record.status}' has no FHIR ResearchStudy status here") from None


def conditions(record: StudyRecord) -> list[Resource]:
    """The record's conditions; neuroblastoma also carries its SNOMED CT code."""
    module = record.protocolSection.conditionsModule
    names = list(module.conditions) if module is not None else []
    out = []
    for name in names:
        concept: Resource = {"text": name}
        if name.strip().lower() == "neuroblastoma":
            concept["coding"] = [coding(c.SNOMED, *c.SCT_NEUROBLASTOMA)]
        out.append(concept)
    return out


def _section(record: StudyRecord) -> dict[str, Any]:
    data: dict[str, Any] = record.model_dump(mode="json")["protocolSection"]
    return data


def identifiers(record: StudyRecord) -> list[Resource]:
    ident = _section(record)["identificationModule"]
    out: list[Resource] = [{"system": c.CLINICALTRIALS_GOV, "value": record.nct_id}]
    org = (ident.get("orgStudyIdInfo") or {}).get("id")
    if org:
        out.append({"use": "secondary", "type": {"text": "organisation's study ID"}, "value": org})
    for secondary in ident.get("secondaryIdInfos") or []:
        kind = secondary.get("type") or "secondary ID"
        out.append({"use": "secondary", "type": {"text": kind}, "value": secondary["id"]})
    return out


def brief_research_study(record: StudyRecord, protocol: ProtocolDefinition) -> Resource:
    """The ResearchStudy inside a patient's Bundle: identifiers, title, status and conditions from the record."""
    resource: Resource = {
        "resourceType": "ResearchStudy",
        "identifier": [{"system": c.CLINICALTRIALS_GOV, "value": record.nct_id}],
        "title": record.title,
        "status": study_status(record),
        "description": f"Course run under the protocol definition {protocol.label}.",
    }
    found = conditions(record)
    if found:
        resource["condition"] = found
    return resource


def _criterion_characteristic(criterion: Any) -> Resource:
    exclude = criterion.kind == "exclusion"
    if criterion.check == "neuroblastoma_diagnosis":
        return {"code": {"text": criterion.title}, "exclude": exclude,
                "valueCodeableConcept": {"coding": [coding(c.SNOMED, *c.SCT_NEUROBLASTOMA)], "text": criterion.wording}}
    if criterion.check in ("minimum_age", "pheo_age_range"):
        age: Resource = {}
        for end, name in (("low", "older_than_years"), ("high", "younger_than_years")):
            quantity = criterion.params.get(name)
            if quantity is not None:
                age[end] = {"value": quantity.value, "unit": "a", "system": c.UCUM, "code": "a"}
        # FHIR ranges are inclusive; the protocol's ends are strict (decisions.md A4): the text says so.
        return {"code": {"coding": [coding(c.LOINC, *LOINC_AGE)], "text": f"{criterion.id}: {criterion.title} "
                         "(ends strict, decisions.md A4)"}, "exclude": exclude, "valueRange": age}
    return {"code": {"text": f"{criterion.id}: {criterion.title}"}, "exclude": exclude,
            "valueCodeableConcept": {"text": criterion.wording}}


def _enrollment_group(protocol: ProtocolDefinition) -> Resource:
    return {
        "resourceType": "Group", "id": "enrollment", "type": "person", "actual": False,
        "name": f"Eligibility of {protocol.protocol_id} ({protocol.label})",
        "characteristic": [_criterion_characteristic(criterion) for criterion in protocol.criteria],
    }


def research_study(record: StudyRecord, protocol: ProtocolDefinition, plan_reference: str | None = None) -> Resource:
    """The full ResearchStudy: sponsor, principal investigator and sites as contained resources, criteria as the
    contained enrollment Group."""
    section = _section(record)
    contained: list[Resource] = [_enrollment_group(protocol)]
    resource = brief_research_study(record, protocol)
    resource["identifier"] = identifiers(record)
    resource["description"] = (section.get("descriptionModule") or {}).get("briefSummary") or resource["description"]
    sponsor = (section.get("sponsorCollaboratorsModule") or {}).get("leadSponsor") or {}
    if sponsor.get("name"):
        contained.append({"resourceType": "Organization", "id": "sponsor", "name": sponsor["name"]})
        resource["sponsor"] = {"reference": "#sponsor", "display": sponsor["name"]}
    contacts = section.get("contactsLocationsModule") or {}
    for official in contacts.get("overallOfficials") or []:
        if official.get("role") == "PRINCIPAL_INVESTIGATOR" and official.get("name"):
            contained.append({"resourceType": "Practitioner", "id": "principal-investigator",
                              "name": [{"text": official["name"]}]})
            resource["principalInvestigator"] = {"reference": "#principal-investigator", "display": official["name"]}
            break
    sites = []
    for index, location in enumerate(contacts.get("locations") or [], start=1):
        address = {k: v for k, v in (("city", location.get("city")), ("state", location.get("state")),
                                     ("country", location.get("country"))) if v}
        site: Resource = {"resourceType": "Location", "id": f"site-{index}", "name": location.get("facility") or "site"}
        if address:
            site["address"] = address
        contained.append(site)
        sites.append({"reference": f"#site-{index}", "display": site["name"]})
    if sites:
        resource["site"] = sites
    phases = [PHASES[p] for p in (section.get("designModule") or {}).get("phases") or [] if p in PHASES]
    if phases:
        resource["phase"] = {"coding": [coding(STUDY_PHASE, phases[0])]}
    elif (section.get("designModule") or {}).get("studyType") == "EXPANDED_ACCESS":
        resource["phase"] = {"coding": [coding(STUDY_PHASE, "n-a", "N/A")], "text": "expanded access"}
    resource["primaryPurposeType"] = {"coding": [coding(STUDY_PRIM_PURPOSE, "treatment", "Treatment")]}
    resource["enrollment"] = [{"reference": "#enrollment"}]
    if plan_reference:
        resource["protocol"] = [{"reference": plan_reference, "display": f"{protocol.protocol_id} plan of a course"}]
    resource["contained"] = contained
    return {"resourceType": resource.pop("resourceType"), "contained": resource.pop("contained"), **resource}


def _duration(value: Decimal, unit: str) -> Resource:
    ucum = {"d": "d", "h": "h", "min": "min", "mo": "mo"}[unit]
    return {"value": value, "unit": unit, "system": c.UCUM, "code": ucum}


def _after(action_id: str, relationship: str, value: Decimal | None = None, unit: str = "d") -> Resource:
    out: Resource = {"actionId": action_id, "relationship": relationship}
    if value is not None:
        out["offsetDuration"] = _duration(value, unit)
    return out


def plan_definition(protocol: ProtocolDefinition) -> Resource:
    """The course as a plan: screening, dose, preparation, administration, release, follow-up, with their timing."""
    site = protocol.site
    limits = "; ".join(f"{d.id} {d.title}" for d in protocol.dose_limits)
    preparations = [
        {"id": f"administration-{p.key}", "title": f"Infusion of {p.name}",
         "description": f"Intravenous infusion over {p.infusion_minimum_min} to {p.infusion_maximum_min} min "
                        f"(decisions.md Dose 'Volume and rate'; {p.reference})"
                        + ("; production discontinued" if p.discontinued else ""),
         "timingRange": {"low": {"value": p.infusion_minimum_min, "unit": "min", "system": c.UCUM, "code": "min"},
                         "high": {"value": p.infusion_maximum_min, "unit": "min", "system": c.UCUM, "code": "min"}}}
        for p in protocol.preparations.values()]
    actions: list[Resource] = [
        {"id": "screening", "title": "Screening",
         "description": f"Every inclusion and exclusion criterion ({len(protocol.criteria)}: "
                        f"{', '.join(c_.id for c_ in protocol.criteria)}) evaluated on the planned treatment date; "
                        f"laboratory values within {site('lab_max_age_days')} days (decisions.md A20).",
         "relatedAction": [_after("administration", "before-start")]},
        {"id": "dose", "title": "Dose plan and written directive",
         "description": f"Weight-based prescription checked against every protocol limit ({limits}); the written "
                        "directive signed by the authorised user (10 CFR 35.40) and independently verified "
                        "(10 CFR 35.41, decisions.md A36).",
         "relatedAction": [_after("screening", "after-end"), _after("administration", "before-start")]},
        {"id": "preparation", "title": "Preparation and assay",
         "description": f"Activity to draw decay-corrected to the calibration time; the assay within "
                        f"{site('assay_tolerance_percent')} % of the prescription after decay correction "
                        "(10 CFR 35.63; decisions.md Dose 'Assay before administration').",
         "relatedAction": [_after("dose", "after-end"), _after("administration", "before-start")]},
        {"id": "administration", "title": "Administration",
         "description": "131I-MIBG intravenous infusion; a difference of "
                        f"{site('medical_event_percent')} % or more from the prescription is a possible medical event "
                        "(10 CFR 35.3045).",
         "action": preparations},
        {"id": "release", "title": "In-patient radiation safety and release",
         "description": f"Exposure-rate readings at 1 m until release: site limit {site('site_release_limit_mrem_per_h')} "
                        f"mR/h, federal {site('federal_release_dose_rate_mrem_per_h')} mR/h or "
                        f"{site('federal_release_activity_mci')} mCi retained (10 CFR 35.75; decisions.md 'Release').",
         "relatedAction": [_after("administration", "after-end")]},
        {"id": "stem-cell-rescue", "title": "Stem-cell infusion if needed",
         "description": "Autologous stem cells on the planned day after the infusion, when the treating physician "
                        "decides (decisions.md Dose 'Stem-cell infusion', A31).",
         "relatedAction": [_after("administration", "after-start", site("stem_cell_infusion_day"))]},
        {"id": "follow-up", "title": "Follow-up",
         "description": "Labs with CTCAE v5.0 grades until count recovery, adverse events, response (Curie score, INRC "
                        "2017) (decisions.md A18, A31-A33).",
         "relatedAction": [_after("release", "after-end")]},
        {"id": "next-course", "title": "Next course",
         "description": "The next 131I-MIBG infusion more than 6 calendar months after this one (strict), and at most "
                        "60 mCi/kg in a lifetime (decisions.md A13, A14).",
         "relatedAction": [_after("administration", "after-start", Decimal("6"), "mo")]},
    ]
    return {
        "resourceType": "PlanDefinition",
        "identifier": [{"system": c.CLINICALTRIALS_GOV, "value": protocol.protocol_id}],
        "version": protocol.version,
        "name": protocol.protocol_id,
        "title": protocol.title,
        "type": {"coding": [coding(PLAN_TYPE, "clinical-protocol", "Clinical Protocol")]},
        "status": "active",
        "date": protocol.effective_date.isoformat(),
        "description": f"The course of {protocol.protocol_id} as the versioned protocol definition {protocol.label} "
                       f"has it. {protocol.source}.",
        "action": actions,
    }


def protocol_bundle(protocol: ProtocolDefinition, record: StudyRecord) -> Resource:
    """A Bundle (collection) of the PlanDefinition and the ResearchStudy, each validated as FHIR."""
    plan_url = f"urn:uuid:{_id('plan-definition')}"
    plan = plan_definition(protocol)
    study = research_study(record, protocol, plan_url)
    for resource in (plan, study):
        validate(resource)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": plan_url, "resource": plan},
        {"fullUrl": f"urn:uuid:{_id('research-study')}", "resource": study}]}
    validate(bundle)
    return bundle


def protocol_bundle_json(protocol: ProtocolDefinition, record: StudyRecord) -> str:
    return dumps(protocol_bundle(protocol, record))
