"""The prescribed dose of a directive: its typed core plan, checked against the directive before anything prints it.

A directive is refused (ReportInputError) when its numbers disagree: the weight on the directive is not the
plan's weight, or the activity is not weight x mCi/kg exactly (clinical-reference §2.3). A document must never
show two different doses. The plan is the core's :class:`~mibg.core.dosing.DosePlan` itself (read from its one
stored shape by ``DosePlan.from_json``), so every document prints the numbers the planner computed, as Decimals.
"""

from __future__ import annotations

from mibg.core.dosing import DosePlan
from mibg.reports.errors import ReportInputError
from mibg.reports.numbers import exact
from mibg.reports.record import Directive


def prescribed_dose(directive: Directive) -> DosePlan:
    """The directive's plan, refused if its numbers are not consistent with each other or with the directive."""
    plan = directive.plan
    request = plan.request
    if request.weight_kg != directive.weight_kg:
        raise ReportInputError("directive.weight_kg", f"{exact(directive.weight_kg)} kg differs from the plan's "
                                                      f"{exact(request.weight_kg)} kg")
    if plan.activity.mci != request.weight_kg * request.mci_per_kg:
        raise ReportInputError("directive.plan.activity_mci", f"{exact(plan.activity.mci)} mCi is not weight x dose = "
                                                              f"{exact(request.weight_kg)} kg x {exact(request.mci_per_kg)} mCi/kg")
    return plan
