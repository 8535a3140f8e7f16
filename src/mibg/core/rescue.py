"""Stem-cell rescue support after 131I-MIBG (clinical-reference §4.2, §1.3 S1; decisions.md Dose "Stem-cell
infusion", A15, A16).

* **Whole-body dose vs the site threshold** ``stem_cell_rescue_whole_body_dose_gy`` (4.0 Gy by default:
  UNVERIFIED as a UCSF trigger, it is the UK two-fraction target, §4.1-§4.2; a site must confirm). A dose at or
  above it gives a warning that rescue should be considered; the treating physician decides (decisions.md).
  A dose below it but within two standard errors of it (the fit's uncertainty) is pointed out too.
* **Planned stem-cell infusion date** = MIBG infusion date + ``stem_cell_infusion_day`` (14 days: NANT gives
  MIBG on day 1 and cells on day 15, §4.2, A16).
* **Each stored product's dose per kg of current weight** (A15): PBSC in CD34+ cells/kg, marrow in mononuclear
  cells (MNC)/kg. Adequate at or above the minimum (1.0e6 CD34+/kg, 1.0e8 MNC/kg, §1.3 S1), at the optimum
  above 2e6 / 2e8 (written with ">" in the protocol record), thresholds read from the protocol's S2 limit.

Cell counts and weight are exact ``Decimal``; the whole-body dose is the ``float`` that
:func:`mibg.core.dosimetry.whole_body_dose` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from mibg.core.errors import InputError
from mibg.core.results import Calculation, Finding, InputUsed, Severity
from mibg.core.serial import JSON, dec, num
from mibg.core.times import site_time
from mibg.core.units import parse_date, parse_decimal, parse_weight_kg
from mibg.core.vocabulary import StemCellProductType
from mibg.protocol import ProtocolDefinition, load_protocol

#: Two standard errors: a dose this close below the threshold is pointed out (product choice).
UNCERTAINTY_COVERAGE = 2.0

_UNITS = {StemCellProductType.PBSC: "CD34+ cells/kg", StemCellProductType.BONE_MARROW: "MNC/kg"}
_THRESHOLDS = {
    StemCellProductType.PBSC: ("minimum_cd34_per_kg", "optimum_cd34_per_kg"),
    StemCellProductType.BONE_MARROW: ("minimum_mnc_per_kg", "optimum_mnc_per_kg"),
}


@dataclass(frozen=True, slots=True)
class StoredProduct:
    """One stored autologous product: ``product_type`` ``pbsc`` or ``bone_marrow``; ``total_cells``: total CD34+
    cells (PBSC) or total mononuclear cells (marrow) [cells]; ``label``: how the clinic names it.

    >>> StoredProduct("pbsc", Decimal("6.6E7")).product_type
    <StemCellProductType.PBSC: 'pbsc'>
    """

    product_type: StemCellProductType
    total_cells: Decimal
    label: str = ""

    def __post_init__(self) -> None:
        where = self.label or "stored product"
        try:
            kind = StemCellProductType(self.product_type)
        except ValueError:
            raise InputError(f"product_type ({where})", f"'{self.product_type}' is not one of: "
                             f"{', '.join(t.value for t in StemCellProductType)}") from None
        object.__setattr__(self, "product_type", kind)
        object.__setattr__(self, "total_cells", parse_decimal(f"total_cells ({where})", self.total_cells,
                                                              minimum=Decimal(0), unit="cells"))


@dataclass(frozen=True, slots=True)
class ProductDose:
    """A stored product per kg of current weight: ``cells_per_kg`` [``unit``]; ``minimum`` and ``optimum`` in
    the same unit; ``adequate`` (>= minimum) and ``at_optimum`` (> optimum)."""

    product: StoredProduct
    weight_kg: Decimal
    cells_per_kg: Decimal
    unit: str
    minimum: Decimal
    optimum: Decimal
    adequate: bool
    at_optimum: bool
    calculation: Calculation

    def to_json(self) -> JSON:
        return {
            "label": self.product.label,
            "product_type": self.product.product_type.value,
            "total_cells": dec(self.product.total_cells),
            "weight_kg": dec(self.weight_kg),
            "cells_per_kg": dec(self.cells_per_kg),
            "unit": self.unit,
            "minimum": dec(self.minimum),
            "optimum": dec(self.optimum),
            "adequate": self.adequate,
            "at_optimum": self.at_optimum,
            "calculation": self.calculation.to_json(),
        }


@dataclass(frozen=True, slots=True)
class RescueAssessment:
    """Stem-cell rescue support (module docstring).

    ``whole_body_dose_gy`` and ``whole_body_dose_se_gy`` [Gy]; ``threshold_gy`` [Gy] and its source;
    ``at_or_above_threshold``; ``near_threshold``: below it but within two standard errors;
    ``planned_stem_cell_infusion_date`` = ``mibg_infusion_date`` + ``stem_cell_infusion_day`` days;
    ``products``: each stored product per kg; ``adequate_product_available``: any product at or above its minimum.
    """

    whole_body_dose_gy: float
    whole_body_dose_se_gy: float | None
    threshold_gy: Decimal
    threshold_source: str
    at_or_above_threshold: bool
    near_threshold: bool
    mibg_infusion_date: date
    stem_cell_infusion_day: int
    planned_stem_cell_infusion_date: date
    products: tuple[ProductDose, ...]
    findings: tuple[Finding, ...]
    calculations: tuple[Calculation, ...]

    @property
    def adequate_product_available(self) -> bool:
        return any(p.adequate for p in self.products)

    def to_json(self) -> JSON:
        """JSON values: cell counts, weight and threshold as exact text; the fitted dose as a JSON number."""
        return {
            "whole_body_dose_gy": num(self.whole_body_dose_gy),
            "whole_body_dose_se_gy": num(self.whole_body_dose_se_gy),
            "threshold_gy": dec(self.threshold_gy),
            "threshold_source": self.threshold_source,
            "at_or_above_threshold": self.at_or_above_threshold,
            "near_threshold": self.near_threshold,
            "mibg_infusion_date": self.mibg_infusion_date.isoformat(),
            "stem_cell_infusion_day": self.stem_cell_infusion_day,
            "planned_stem_cell_infusion_date": self.planned_stem_cell_infusion_date.isoformat(),
            "products": [p.to_json() for p in self.products],
            "adequate_product_available": self.adequate_product_available,
            "findings": [f.to_json() for f in self.findings],
            "calculations": [c.to_json() for c in self.calculations],
        }


def product_dose(product: StoredProduct, weight_kg: Decimal, protocol: ProtocolDefinition | None = None) -> ProductDose:
    """Cells per kg of current weight (decisions.md A15) against the protocol's minimum and optimum (§1.3 S1).

    >>> product_dose(StoredProduct("pbsc", Decimal("6.6E7")), Decimal("22")).cells_per_kg
    Decimal('3E+6')
    """
    protocol = protocol or load_protocol()
    weight = parse_weight_kg(weight_kg)
    gate = protocol.dose_limit("S2")
    minimum_name, optimum_name = _THRESHOLDS[product.product_type]
    minimum, optimum = gate.quantity(minimum_name).value, gate.quantity(optimum_name).value
    per_kg = product.total_cells / weight
    unit = _UNITS[product.product_type]
    calculation = Calculation(
        f"{product.label or product.product_type.value} per kg", f"{per_kg:.3E}", unit,
        f"{product.total_cells:.3E} cells / {weight} kg = {per_kg:.3E} {unit} (minimum {minimum:.1E}, optimum > "
        f"{optimum:.1E}; {gate.reference})",
        (InputUsed("total cells", f"{product.total_cells:.3E}"), InputUsed("current weight", str(weight), "kg",
                                                                         field="weight_kg")),
    )
    return ProductDose(product, weight, per_kg, unit, minimum, optimum, per_kg >= minimum, per_kg > optimum,
                       calculation)


def stem_cell_rescue(
    whole_body_dose_gy: float,
    mibg_infusion_date: date,
    products: Sequence[StoredProduct],
    weight_kg: Decimal,
    protocol: ProtocolDefinition | None = None,
    whole_body_dose_se_gy: float | None = None,
) -> RescueAssessment:
    """Whole-body dose [Gy] against the site threshold, the planned infusion date of stored stem cells, and each
    stored product per kg of current weight ``weight_kg`` [kg] (module docstring).

    ``mibg_infusion_date``: the date of the 131I-MIBG infusion (a date, or an aware date-time's own date).
    """
    protocol = protocol or load_protocol()
    if not (whole_body_dose_gy >= 0 and whole_body_dose_gy < float("inf")):
        raise InputError("whole_body_dose_gy", f"{whole_body_dose_gy} is not a dose in Gy")
    infusion_date = parse_date("mibg_infusion_date", mibg_infusion_date)
    threshold = protocol.site("stem_cell_rescue_whole_body_dose_gy")
    day = int(protocol.site("stem_cell_infusion_day"))
    planned = infusion_date + timedelta(days=day)
    doses = tuple(product_dose(p, weight_kg, protocol) for p in products)
    at_or_above = whole_body_dose_gy >= float(threshold)
    near = (not at_or_above and whole_body_dose_se_gy is not None
            and whole_body_dose_gy + UNCERTAINTY_COVERAGE * whole_body_dose_se_gy >= float(threshold))
    source = protocol.site_parameters["stem_cell_rescue_whole_body_dose_gy"].source
    calculations = (
        Calculation("Whole-body dose vs rescue threshold", f"{whole_body_dose_gy:.3g}", "Gy",
                    f"{whole_body_dose_gy:.3g} Gy {'>=' if at_or_above else '<'} {threshold} Gy",
                    (InputUsed(f"threshold ({source})", str(threshold), "Gy"),)),
        Calculation("Planned stem-cell infusion date", planned.isoformat(), "",
                    f"{infusion_date.isoformat()} + {day} days",
                    (InputUsed("MIBG infusion date", infusion_date.isoformat(), field="mibg_infusion_date"),
                     InputUsed("stem_cell_infusion_day (decisions.md Dose 'Stem-cell infusion')", str(day), "d"))),
        *(d.calculation for d in doses),
    )
    return RescueAssessment(
        whole_body_dose_gy=whole_body_dose_gy,
        whole_body_dose_se_gy=whole_body_dose_se_gy,
        threshold_gy=threshold,
        threshold_source=source,
        at_or_above_threshold=at_or_above,
        near_threshold=near,
        mibg_infusion_date=infusion_date,
        stem_cell_infusion_day=day,
        planned_stem_cell_infusion_date=planned,
        products=doses,
        findings=_findings(whole_body_dose_gy, threshold, at_or_above, near, planned, doses, protocol),
        calculations=calculations,
    )


def _findings(
    dose_gy: float,
    threshold: Decimal,
    at_or_above: bool,
    near: bool,
    planned: date,
    doses: Sequence[ProductDose],
    protocol: ProtocolDefinition,
) -> tuple[Finding, ...]:
    reference = "clinical-reference §4.2; decisions.md Dose 'Stem-cell infusion'"
    findings = []
    if at_or_above:
        findings.append(Finding("RESCUE", Severity.WARN, f"Whole-body dose {dose_gy:.3g} Gy is at or above the site "
                                f"threshold {threshold} Gy (the site's choice, UNVERIFIED): consider stem-cell rescue, "
                                f"planned for {planned.isoformat()}; the treating physician decides.",
                                reference=reference + "; decisions.md A31"))
    elif near:
        findings.append(Finding("RESCUE", Severity.INFO, f"Whole-body dose {dose_gy:.3g} Gy is below the site threshold "
                                f"{threshold} Gy (the site's choice, UNVERIFIED) but within two standard errors of it.",
                                reference=reference + "; decisions.md A31"))
    if not any(d.adequate for d in doses):
        gate = protocol.dose_limit("S2")
        minimums = " or ".join(f"{gate.quantity(_THRESHOLDS[t][0]).value:.1E} {unit}" for t, unit in _UNITS.items())
        findings.append(Finding("S1", Severity.WARN if at_or_above or near else Severity.INFO,
                                f"No stored product reaches the minimum per kg of current weight ({minimums}).",
                                reference="clinical-reference §1.3 S1; decisions.md A15"))
    findings += [
        Finding("S1", Severity.WARN, f"{d.product.label or d.product.product_type.value}: {d.cells_per_kg:.3E} {d.unit} is "
                f"adequate but not above the optimum {d.optimum:.1E}.", reference="clinical-reference §1.3 S1; A15")
        for d in doses
        if d.adequate and not d.at_optimum
    ]
    return tuple(findings)


# ---- the count-based recommendation (decisions.md A31, clinical-reference A16) ---------------------------


@dataclass(frozen=True, slots=True)
class AncRescue:
    """ANC below ``threshold`` (0.2 x 10^9/L) for more than ``days`` (14) days after the infusion recommends rescue
    (decisions.md A31; clinical-reference A16: "ANC < 200/uL for > 2 weeks" [MAT98], VERIFIED).

    The span is measured between results: from the first result below the threshold to the last result of the
    same unbroken run below it (a result at or above the threshold ends the run). ``below_since`` and
    ``below_until`` are that run's first and last results (the longest run); ``ongoing`` when no later result
    ended it. Product choice: the span is not extended to today without a result.
    """

    threshold: Decimal
    days: int
    below_since: datetime | None
    below_until: datetime | None
    ongoing: bool

    @property
    def span(self) -> timedelta:
        if self.below_since is None or self.below_until is None:
            return timedelta(0)
        return self.below_until - self.below_since

    @property
    def recommended(self) -> bool:
        return self.span > timedelta(days=self.days)

    @property
    def finding(self) -> Finding | None:
        reference = "decisions.md A31; clinical-reference A16"
        if self.below_since is None or self.below_until is None:
            return None
        span_days = self.span.total_seconds() / 86400
        run = (f"ANC below {self.threshold} x 10^9/L from {site_time(self.below_since)} to "
               f"{site_time(self.below_until)} ({span_days:.1f} days between results"
               f"{', no result above it since' if self.ongoing else ''})")
        if self.recommended:
            return Finding("RESCUE-ANC", Severity.WARN, f"{run}: more than {self.days} days, stem-cell rescue is "
                           "recommended; the treating physician decides.", reference=reference)
        return Finding("RESCUE-ANC", Severity.INFO, f"{run}: rescue is recommended when it lasts more than {self.days} "
                       "days.", reference=reference)


def anc_rescue(
    anc: Sequence[tuple[datetime, Decimal]],
    infusion_start: datetime,
    protocol: ProtocolDefinition | None = None,
) -> AncRescue:
    """The longest unbroken run of ANC results [10^9/L] below the site threshold after ``infusion_start``."""
    protocol = protocol or load_protocol()
    threshold = protocol.site("rescue_anc_10e9_per_l")
    days = int(protocol.site("rescue_anc_days"))
    best: tuple[datetime, datetime, bool] | None = None
    start: datetime | None = None
    last: datetime | None = None
    for at, value in sorted((a, parse_decimal("anc", v, minimum=Decimal(0), unit="10^9/L")) for a, v in anc
                            if a >= infusion_start):
        if value < threshold:
            start = start or at
            last = at
            continue
        if start is not None and last is not None and (best is None or last - start > best[1] - best[0]):
            best = (start, last, False)
        start = last = None
    if start is not None and last is not None and (best is None or last - start >= best[1] - best[0]):
        best = (start, last, True)
    if best is None:
        return AncRescue(threshold, days, None, None, False)
    return AncRescue(threshold, days, best[0], best[1], best[2])


__all__ = ["AncRescue", "ProductDose", "RescueAssessment", "StoredProduct", "anc_rescue", "product_dose",
           "stem_cell_rescue"]
