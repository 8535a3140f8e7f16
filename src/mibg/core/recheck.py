"""The time-dependent criteria checked again at the actual start of the infusion (decisions.md A30).

Screening judges the criteria on the planned treatment date. When the infusion start is recorded, the criteria
that depend on the date are evaluated again with the actual start as the treatment date and infusion start:
the anti-tumour therapy washout (T2), the radiotherapy washout (T3), cytokines stopped 24 hours before (T4),
more than 6 months since the last 131I-MIBG (T5) and the pregnancy test (X2); and the weight the dose was
prescribed on must still be within its window (``weight_max_age_days``, A20). A failure stops the step until
the screening is renewed or the study chair clears the criterion (a chair decision in the snapshot counts, as at
screening).

Product choice: a criterion passes here when it is met, does not apply, or was cleared by the chair; "unknown"
(e.g. a value outside its window) and "needs review" stop the step as "not met" does, because the step gives
the dose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mibg.core.eligibility import evaluate_eligibility
from mibg.core.results import CriterionResult, Status
from mibg.core.snapshot import PatientSnapshot
from mibg.core.times import site_date, site_time
from mibg.protocol import ProtocolDefinition, load_protocol

#: decisions.md A30: the criteria whose result depends on the date of the infusion.
TIME_DEPENDENT = ("T2", "T3", "T4", "T5", "X2")


@dataclass(frozen=True, slots=True)
class Recheck:
    """The re-check at ``start``: ``failures`` are the criteria (and the weight) that stop the step."""

    start: datetime
    results: tuple[CriterionResult, ...]
    weight_problem: str

    @property
    def failures(self) -> tuple[str, ...]:
        failed = [f"{r.id} {r.title}: {r.status} at the infusion start ({r.reason})" for r in self.results
                  if not _passes(r)]
        return (*failed, *([self.weight_problem] if self.weight_problem else []))

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def message(self) -> str:
        return (f"Checked again at the infusion start {site_time(self.start)} (decisions.md A30): "
                + "; ".join(self.failures)
                + ". The administration is not recorded until the screening is renewed or the study chair clears it.")


def _passes(result: CriterionResult) -> bool:
    return result.status is Status.MET or not result.applies or bool(result.cleared_by)


def recheck_at_infusion(snapshot: PatientSnapshot, start: datetime, prescribed_weight_on: date | None = None,
                        protocol: ProtocolDefinition | None = None) -> Recheck:
    """Evaluate ``snapshot`` again with ``start`` as the treatment date and infusion start (A30)."""
    protocol = protocol or load_protocol()
    at = snapshot.model_copy(update={"planned_treatment_date": site_date(start), "planned_infusion_start": start})
    result = evaluate_eligibility(at, protocol)
    rows = tuple(r for r in result.criteria if r.id in TIME_DEPENDENT)
    weighed = prescribed_weight_on or snapshot.weight_measured_on
    problem = ""
    max_age = int(protocol.site("weight_max_age_days"))
    if weighed is not None and (site_date(start) - weighed).days > max_age:
        problem = (f"the weight was measured on {weighed.isoformat()}, {(site_date(start) - weighed).days} days before the "
                   f"infusion: more than {max_age} days (weight_max_age_days, decisions.md A20)")
    return Recheck(start, rows, problem)


__all__ = ["TIME_DEPENDENT", "Recheck", "recheck_at_infusion"]
