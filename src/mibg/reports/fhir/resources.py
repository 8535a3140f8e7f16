"""What every FHIR resource of the export is built from: the resource type, a coding, and the check that a
resource is valid FHIR (R4B model classes). Apart from the export so that the study's resources
(mibg.reports.fhir.protocol), which the export includes, import no module that imports them back."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

Resource = dict[str, Any]


def coding(system: str, code: str, display: str | None = None) -> Resource:
    out: Resource = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def validate(resource: Resource) -> None:
    """Parse ``resource`` with its FHIR model class; a failure here is a bug in the export, reported plainly."""
    kind = resource.get("resourceType", "")
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except (ValidationError, KeyError, ValueError) as error:
        raise RuntimeError(f"the exported {kind} is not valid FHIR: {str(error).splitlines()[0:3]}") from error
