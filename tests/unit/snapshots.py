"""A builder for valid patient snapshots: an example patient with some parts replaced.

The base is examples/patients/eligible-neuroblastoma.json (eligible on its planned treatment date,
2026-12-10, with every criterion met). A test changes only what it is about, so every other criterion
stays met and the one under test decides the result.

    criterion("H1", labs=labs_with(lab("anc", "0.75")))
    evaluate(stem_cell_products=[], planned_mci_per_kg="11")
"""

from __future__ import annotations

import copy
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from mibg.core.eligibility import EligibilityResult, evaluate_eligibility
from mibg.core.results import CriterionResult
from mibg.core.snapshot import PatientSnapshot
from mibg.protocol import ProtocolDefinition

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "patients"
ELIGIBLE = "eligible-neuroblastoma"
PHEO = "pheo-paraganglioma"

#: The dates of the base example (eligible-neuroblastoma.json).
TREATMENT_DAY = date(2026, 12, 10)
ENROLMENT_DAY = date(2026, 11, 26)
LAB_TIME = "2026-12-07T07:30:00-08:00"
ATTESTED_AT = "2026-12-07T10:00:00-08:00"
WEIGHT_KG = "22.0"

CANONICAL_UNITS = {
    "anc": "10^9/L",
    "platelets": "10^9/L",
    "hemoglobin": "g/dL",
    "bilirubin": "mg/dL",
    "ast": "U/L",
    "alt": "U/L",
    "creatinine": "mg/dL",
}

#: No stored stem cells and a plan below 12 mCi/kg: H2 applies instead of H3, S1 is met.
NO_STEM_CELLS: dict[str, Any] = {"stem_cell_products": [], "planned_mci_per_kg": "11"}


@cache
def _example_text(name: str) -> str:
    return (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")


def example_data(name: str = ELIGIBLE) -> dict[str, Any]:
    """A fresh, mutable copy of an example patient as JSON data."""
    return copy.deepcopy(json.loads(_example_text(name)))


def snapshot_data(base: str = ELIGIBLE, **changes: Any) -> dict[str, Any]:
    """The example's data with top-level fields replaced; a value of ``None`` removes the field."""
    data = example_data(base)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def build(base: str = ELIGIBLE, **changes: Any) -> PatientSnapshot:
    """A validated :class:`PatientSnapshot`: the example with ``changes`` applied."""
    return PatientSnapshot.model_validate(snapshot_data(base, **changes))


def evaluate(base: str = ELIGIBLE, protocol: ProtocolDefinition | None = None, **changes: Any) -> EligibilityResult:
    return evaluate_eligibility(build(base, **changes), protocol)


def criterion(criterion_id: str, base: str = ELIGIBLE, protocol: ProtocolDefinition | None = None,
              **changes: Any) -> CriterionResult:
    return evaluate(base, protocol, **changes).criterion(criterion_id)


def lab(test: str, value: str, unit: str | None = None, *, at: str = LAB_TIME, uln: str | None = None) -> dict[str, Any]:
    """One lab result as JSON data (canonical unit unless ``unit`` is given)."""
    result: dict[str, Any] = {"test": test, "value": value, "unit": unit or CANONICAL_UNITS[test], "collected_at": at}
    if uln is not None:
        result["uln"] = uln
    return result


def labs_with(*replacements: dict[str, Any], base: str = ELIGIBLE, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The example's labs with every result of a replaced (or dropped) test removed and the replacements added."""
    replaced = {r["test"] for r in replacements} | set(drop)
    return [r for r in example_data(base)["labs"] if r["test"] not in replaced] + list(replacements)


def attestation(value: bool = True, *, at: str = ATTESTED_AT, by: str = "Dr A. Patel") -> dict[str, Any]:
    return {"value": value, "by": by, "at": at}


def attestations_with(base: str = ELIGIBLE, **changes: dict[str, Any] | None) -> dict[str, Any]:
    """The example's attestations with some replaced; ``None`` removes one."""
    data = example_data(base)["attestations"]
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def chair_decision(criterion_id: str, cleared: bool, *, at: str = "2026-12-08T12:00:00-08:00",
                   by: str = "Dr K. Matthay (study chair)") -> dict[str, Any]:
    return {"criterion": criterion_id, "cleared": cleared, "by": by, "at": at, "reason": "discussed at tumour board"}


def pbsc(total_cd34_cells: str) -> dict[str, Any]:
    return {"product_type": "pbsc", "total_cd34_cells": total_cd34_cells, "collected_on": "2023-06-01"}


def marrow(total_mononuclear_cells: str) -> dict[str, Any]:
    return {"product_type": "bone_marrow", "total_mononuclear_cells": total_mononuclear_cells, "collected_on": "2023-06-01"}


def prior_course(infusion_date: str, mci_per_kg: str, weight_kg: str = "20") -> dict[str, Any]:
    return {"infusion_date": infusion_date, "mci_per_kg": mci_per_kg, "weight_kg": weight_kg}
