"""The study record in ClinicalTrials.gov API v2 form, and the links from its eligibility bullets to the
criteria the software evaluates.

``load_study_record`` validates the parts the software relies on (the NCT number, the title, the overall
status and the eligibility text) and names the field of the first problem. ``link_criteria`` splits the
eligibility text into its bullets and links each to the protocol definition's criteria whose wording it
contains (the definition's wording is a verbatim excerpt of the record: clinical-reference §1), e.g. the
"Hematopoietic Criteria" bullet to H1-H5. Dose limits are linked the same way against the intervention
description. A criterion found in no bullet means the record and the definition have drifted apart.

The bundled record is ``clinicaltrials/NCT01370330.json``; an imported one is stored in the data directory
(``$MIBG_DATA_DIR``, default ``./var``) as ``study_record.json``, where the web application reads it.
This module imports nothing of the project outside :mod:`mibg.protocol`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mibg.protocol.model import ProtocolDefinition

BUNDLED_RECORD = Path(__file__).with_name("clinicaltrials") / "NCT01370330.json"
STUDY_RECORD_FILENAME = "study_record.json"
DATA_DIR_VARIABLE = "MIBG_DATA_DIR"


class StudyRecordError(ValueError):
    """A study record that cannot be used; ``field`` is the dotted path of the problem."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class _Part(BaseModel):
    # API v2 documents carry many more fields than these; unknown fields are kept, not refused.
    model_config = ConfigDict(extra="allow", frozen=True)


class OrgStudyIdInfo(_Part):
    id: str = Field(min_length=1)


class SecondaryIdInfo(_Part):
    id: str = Field(min_length=1)
    type: str | None = None


class IdentificationModule(_Part):
    nctId: str = Field(pattern=r"^NCT\d{8}$")
    briefTitle: str = Field(min_length=1)
    orgStudyIdInfo: OrgStudyIdInfo | None = None
    secondaryIdInfos: tuple[SecondaryIdInfo, ...] = ()
    officialTitle: str | None = None


class DateStruct(_Part):
    date: str = Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")


class StatusModule(_Part):
    overallStatus: str = Field(min_length=1)
    lastUpdatePostDateStruct: DateStruct | None = None


class Sponsor(_Part):
    name: str = Field(min_length=1)


class SponsorCollaboratorsModule(_Part):
    leadSponsor: Sponsor | None = None
    collaborators: tuple[Sponsor, ...] = ()


class DescriptionModule(_Part):
    briefSummary: str | None = None
    detailedDescription: str | None = None


class ConditionsModule(_Part):
    conditions: tuple[str, ...] = ()


class DesignModule(_Part):
    studyType: str | None = None


class Intervention(_Part):
    name: str = Field(min_length=1)
    type: str | None = None
    description: str = ""
    otherNames: tuple[str, ...] = ()


class ArmsInterventionsModule(_Part):
    interventions: tuple[Intervention, ...] = ()


class EligibilityModule(_Part):
    eligibilityCriteria: str = Field(min_length=1)
    sex: str | None = None
    minimumAge: str | None = None
    healthyVolunteers: bool | None = None


class Contact(_Part):
    name: str | None = None
    role: str | None = None
    phone: str | None = None


class Location(_Part):
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    status: str | None = None
    contacts: tuple[Contact, ...] = ()


class ContactsLocationsModule(_Part):
    centralContacts: tuple[Contact, ...] = ()
    overallOfficials: tuple[Contact, ...] = ()
    locations: tuple[Location, ...] = ()


class ProtocolSection(_Part):
    identificationModule: IdentificationModule
    statusModule: StatusModule
    eligibilityModule: EligibilityModule
    sponsorCollaboratorsModule: SponsorCollaboratorsModule | None = None
    descriptionModule: DescriptionModule | None = None
    conditionsModule: ConditionsModule | None = None
    designModule: DesignModule | None = None
    armsInterventionsModule: ArmsInterventionsModule | None = None
    contactsLocationsModule: ContactsLocationsModule | None = None


class StudyRecord(_Part):
    """A ClinicalTrials.gov API v2 study document (the parts the software uses are typed)."""

    protocolSection: ProtocolSection

    @property
    def nct_id(self) -> str:
        return self.protocolSection.identificationModule.nctId

    @property
    def title(self) -> str:
        return self.protocolSection.identificationModule.briefTitle

    @property
    def status(self) -> str:
        return self.protocolSection.statusModule.overallStatus

    @property
    def last_updated(self) -> date | None:
        struct = self.protocolSection.statusModule.lastUpdatePostDateStruct
        if struct is None or len(struct.date) != 10:
            return None
        return date.fromisoformat(struct.date)

    @property
    def eligibility_criteria(self) -> str:
        return self.protocolSection.eligibilityModule.eligibilityCriteria


def parse_study_record(data: object) -> StudyRecord:
    """Validate parsed JSON; :class:`StudyRecordError` names the first field in error."""
    if not isinstance(data, Mapping):
        raise StudyRecordError("(document)", "a study record is a JSON object")
    try:
        return StudyRecord.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(document)"
        message = "is required" if first["type"] == "missing" else first["msg"]
        raise StudyRecordError(field, message) from None


def load_study_record(path: str | os.PathLike[str] = BUNDLED_RECORD) -> StudyRecord:
    """Read and validate a record file (the bundled NCT01370330 record by default)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise StudyRecordError(str(path), f"cannot read the file ({error.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise StudyRecordError(str(path), f"not JSON (line {error.lineno}: {error.msg})") from None
    return parse_study_record(data)


# ---- eligibility bullets and their criteria ---------------------------------------------------------------

Kind = Literal["inclusion", "exclusion"]


@dataclass(frozen=True, slots=True)
class EligibilityBullet:
    """One bullet of the record's eligibility text, and the criterion IDs that evaluate it."""

    number: int
    kind: Kind
    text: str
    criteria: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CriterionLinks:
    bullets: tuple[EligibilityBullet, ...]
    unlinked_criteria: tuple[str, ...]
    dose_limits: tuple[tuple[str, str], ...]  # (limit ID, where its wording was found)
    unlinked_dose_limits: tuple[str, ...]

    @property
    def linked_criteria(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for bullet in self.bullets:
            seen.update(dict.fromkeys(bullet.criteria))
        return tuple(seen)

    @property
    def bullets_without_criteria(self) -> tuple[EligibilityBullet, ...]:
        return tuple(b for b in self.bullets if not b.criteria)

    def for_bullet(self, words: str) -> tuple[str, ...]:
        """The criteria of the first bullet whose text contains ``words`` (case-insensitive)."""
        wanted = _normal(words)
        for bullet in self.bullets:
            if wanted in _normal(bullet.text):
                return bullet.criteria
        raise KeyError(f"no eligibility bullet contains '{words}'")


_HEADING = re.compile(r"^\s*(inclusion|exclusion)\s+criteria\s*:?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[*\-•]\s+(.*)$")


def eligibility_bullets(text: str) -> list[tuple[Kind, str]]:
    """The bullets of an eligibility text under its Inclusion/Exclusion headings, continuation lines joined."""
    bullets: list[tuple[Kind, str]] = []
    kind: Kind | None = None
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            kind = "inclusion" if heading.group(1).lower() == "inclusion" else "exclusion"
            continue
        bullet = _BULLET.match(line)
        if bullet and kind is not None:
            bullets.append((kind, bullet.group(1).strip()))
        elif line.strip() and bullets and kind is not None:
            previous_kind, previous = bullets[-1]
            bullets[-1] = (previous_kind, f"{previous} {line.strip()}")
    return bullets


def _normal(text: str) -> str:
    """Markdown escapes removed (\\> -> >), whitespace collapsed and dropped before punctuation
    ("mCi/kg ." = "mCi/kg."), case folded: for matching only."""
    collapsed = re.sub(r"\s+", " ", re.sub(r"\\(.)", r"\1", text))
    return re.sub(r" ([.,;:)])", r"\1", collapsed).strip().casefold()


def _fragments(wording: str) -> list[str]:
    """The verbatim pieces of a wording; '...' marks text left out between them."""
    return [piece for piece in (_normal(p) for p in re.split(r"\.\.\.|\[\.\.\.\]", wording)) if len(piece) >= 8]


def _contains(text: str, wording: str) -> bool:
    pieces = _fragments(wording)
    return bool(pieces) and all(piece in text for piece in pieces)


def link_criteria(record: StudyRecord, protocol: ProtocolDefinition) -> CriterionLinks:
    """Link each eligibility bullet to the criteria whose wording it contains, and each dose limit to the
    intervention or eligibility text that contains its wording."""
    bullets = []
    for number, (kind, text) in enumerate(eligibility_bullets(record.eligibility_criteria), start=1):
        normal = _normal(text)
        ids = tuple(c.id for c in protocol.criteria if c.kind == kind and _contains(normal, c.wording))
        bullets.append(EligibilityBullet(number, kind, text, ids))
    linked = {i for b in bullets for i in b.criteria}
    unlinked = tuple(c.id for c in protocol.criteria if c.id not in linked)
    sources: list[tuple[str, str]] = []
    module = record.protocolSection.armsInterventionsModule
    for intervention in module.interventions if module else ():
        sources.append((f"intervention '{intervention.name}'", _normal(intervention.description)))
    sources.append(("eligibility criteria", _normal(record.eligibility_criteria)))
    combined = " ".join(text for _, text in sources)
    limits: list[tuple[str, str]] = []
    unlinked_limits: list[str] = []
    for limit in protocol.dose_limits:
        if not _contains(combined, limit.wording):
            unlinked_limits.append(limit.id)
            continue
        where = [name for name, text in sources if any(piece in text for piece in _fragments(limit.wording))]
        limits.append((limit.id, " and ".join(where)))
    return CriterionLinks(tuple(bullets), unlinked, tuple(limits), tuple(unlinked_limits))


# ---- where the imported record lives ----------------------------------------------------------------------


def data_dir() -> Path:
    """``$MIBG_DATA_DIR``, or ``./var`` when it is not set."""
    return Path(os.environ.get(DATA_DIR_VARIABLE) or "var")


def stored_record_path() -> Path:
    return data_dir() / STUDY_RECORD_FILENAME


def store_study_record(data: Mapping[str, Any], directory: Path | None = None) -> Path:
    """Write a validated record as ``study_record.json`` in the data directory (atomically) and return its path."""
    parse_study_record(data)
    target_dir = directory or data_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / STUDY_RECORD_FILENAME
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(target)
    return target


def current_study_record() -> StudyRecord:
    """The imported record if there is one in the data directory, else the bundled record."""
    path = stored_record_path()
    return load_study_record(path if path.exists() else BUNDLED_RECORD)
