"""The dose planner's verdict compiled per protocol definition (issue 14): which limits block, nothing else.

Each dose limit has exactly two expressions (issue 11): the planner's checks in :mod:`mibg.core.dosing` (each limit
as a finding, every threshold read from the protocol definition on every call: the reference and the fallback) and
the compiled verdict here. Screening a programme asks which limits block for every patient, so :class:`DoseLimits`
reads every threshold it needs **once** from one protocol definition (the same definition object; nothing here is
a number of the protocol) and answers by the same rules, in the same order, over plain values.

It answers only the common case and says so: :meth:`DoseLimits.request_blocks` returns None (and the caller asks
the full planner) whenever a value is not a plain finite Decimal inside its plausible range, or the request has a
field this fast path does not check (a specific activity, a stock concentration, calibration and administration
times). Bad input is therefore always refused by the full planner, with its words. A definition this module
cannot read (a limit or parameter missing, a quantity of an unexpected type) gives no :class:`DoseLimits` at all
(:func:`compile_dose_limits` returns None) and the full planner decides every request.
tests/unit/test_compiled_verdicts.py proves both agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from mibg.core.calendar import add_months
from mibg.core.plausibility import PREFIX
from mibg.core.vocabulary import DiagnosisKind
from mibg.protocol import ProtocolDefinition, Quantity

Blocks = tuple[tuple[str, bool], ...]
_ZERO = Decimal(0)

#: The diagnoses the pheochromocytoma/paraganglioma cap (R2) applies to (``DiagnosisKind.is_pheo_or_paraganglioma``).
PHEO_KINDS = frozenset(kind for kind in DiagnosisKind if kind.is_pheo_or_paraganglioma)


class CannotCompile(Exception):
    """The definition has something the compiled path does not read: the full evaluator decides instead."""


if TYPE_CHECKING:  # a structural type for mypy only: the dose command imports this module at its start

    class DoseRequestFields(Protocol):
        """The fields of :class:`mibg.core.dosing.DoseRequest` the verdict reads (not imported: dosing imports this)."""

        @property
        def weight_kg(self) -> Decimal: ...
        @property
        def mci_per_kg(self) -> Decimal: ...
        @property
        def diagnosis(self) -> DiagnosisKind: ...
        @property
        def preparation(self) -> str | None: ...
        @property
        def specific_activity_ci_per_mmol(self) -> Decimal | None: ...
        @property
        def specific_activity_mci_per_mg(self) -> Decimal | None: ...
        @property
        def stock_concentration_mci_per_ml(self) -> Decimal | None: ...
        @property
        def final_volume_ml(self) -> Decimal | None: ...
        @property
        def infusion_min(self) -> Decimal | None: ...
        @property
        def cd34_per_kg(self) -> Decimal | None: ...
        @property
        def marrow_mnc_per_kg(self) -> Decimal | None: ...
        @property
        def prior_mci_per_kg(self) -> Decimal: ...
        @property
        def last_mibg_date(self) -> date | None: ...
        @property
        def treatment_date(self) -> date | None: ...
        @property
        def calibration_time(self) -> object: ...
        @property
        def administration_time(self) -> object: ...


def quantity(params: object, name: str) -> Decimal:
    """A quantity parameter's value, or :class:`CannotCompile` (the reference would fail, or read it otherwise)."""
    value = params.get(name) if isinstance(params, Mapping) else None
    if not isinstance(value, Quantity) or not isinstance(value.value, Decimal) or not value.value.is_finite():
        raise CannotCompile(f"no quantity parameter {name}")
    return value.value


def site_days(protocol: ProtocolDefinition, name: str) -> int:
    """A site parameter read as :meth:`ProtocolDefinition.site` and ``int()`` read it, or :class:`CannotCompile`."""
    parameter = protocol.site_parameters.get(name)
    if parameter is None or not isinstance(parameter.value, Decimal) or not parameter.value.is_finite():
        raise CannotCompile(f"no site parameter {name}")
    return int(parameter.value)


def _plausible(protocol: ProtocolDefinition, name: str) -> tuple[Decimal | None, Decimal]:
    """(minimum or None, maximum) of a plausible range, as :func:`mibg.core.plausibility.plausible` reads them."""
    high = protocol.site_parameters.get(f"{PREFIX}{name}_max")
    low = protocol.site_parameters.get(f"{PREFIX}{name}_min")
    if high is None or not isinstance(high.value, Decimal) or not high.value.is_finite():
        raise CannotCompile(f"no plausible range {name}")  # the reference raises KeyError: let it
    low_value = None if low is None else low.value
    if low_value is not None and (not isinstance(low_value, Decimal) or not low_value.is_finite()):
        raise CannotCompile(f"plausible minimum {name} is not a finite number")
    return low_value, high.value


def _finite(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _in_range(value: object, limits: tuple[Decimal | None, Decimal], allow_zero: bool) -> bool:
    """True when the reference's plausibility check passes ``value`` for sure (False: ask the reference)."""
    if type(value) is not Decimal or not value.is_finite() or value < _ZERO or (not allow_zero and value == _ZERO):
        return False
    low, high = limits
    return (low is None or value >= low) and value <= high


class DoseLimits:
    """Every threshold the dose verdict reads, read once from one protocol definition."""

    __slots__ = (
        "cells",
        "cumulative",
        "gate",
        "infusion",
        "label",
        "mci_per_kg",
        "min_cd34",
        "min_mnc",
        "preparations",
        "r1_max",
        "r1_min",
        "r2_per_kg",
        "r2_total",
        "r4_max",
        "r4_min",
        "t5_max",
        "t5_months",
        "volume",
        "weight",
    )

    def __init__(self, protocol: ProtocolDefinition) -> None:
        #: ``protocol.label``, which each plan cites (the definition is immutable: read once).
        self.label = protocol.label
        try:
            r1, s2, r2, t5 = (protocol.dose_limit(rule).params for rule in ("R1", "S2", "R2", "T5"))
            r4 = protocol.dose_limit("R4").params
        except KeyError as error:
            raise CannotCompile(str(error)) from None
        self.r1_min = quantity(r1, "minimum_mci_per_kg")
        self.r1_max = quantity(r1, "maximum_mci_per_kg")
        quantity(r1, "warn_below_mci_per_kg")  # read by the explanation: a definition without it is not compiled
        self.gate = quantity(s2, "gate_mci_per_kg")
        self.min_cd34 = quantity(s2, "minimum_cd34_per_kg")
        self.min_mnc = quantity(s2, "minimum_mnc_per_kg")
        quantity(s2, "optimum_cd34_per_kg")  # read by mibg.core.stem_cells on every status: required alike
        quantity(s2, "optimum_mnc_per_kg")
        self.r2_total = quantity(r2, "maximum_total_mci")
        self.r2_per_kg = quantity(r2, "maximum_mci_per_kg")
        self.t5_months = int(quantity(t5, "more_than_months"))
        self.t5_max = quantity(t5, "maximum_cumulative_mci_per_kg")
        self.r4_min = quantity(r4, "minimum_ml")
        self.r4_max = quantity(r4, "maximum_ml")
        self.weight = _plausible(protocol, "weight_kg")
        self.mci_per_kg = _plausible(protocol, "mci_per_kg")
        self.cumulative = _plausible(protocol, "cumulative_mci_per_kg")
        self.cells = _plausible(protocol, "cells_per_kg")
        self.volume = _plausible(protocol, "volume_ml")
        self.infusion = _plausible(protocol, "infusion_min")
        # Each preparation: (specific activity in mCi/mg, the label's concentration or None, infusion minutes).
        preparations: dict[str, tuple[bool, Decimal | None, Decimal, Decimal]] = {}
        for key, preparation in protocol.preparations.items():
            unit = preparation.specific_activity.get("unit")
            concentration = preparation.concentration_at_calibration
            low, high = preparation.infusion_minimum_min, preparation.infusion_maximum_min
            if (not isinstance(unit, str) or not _finite(low) or not _finite(high)
                    or (concentration is not None and not _finite(concentration.value))):
                raise CannotCompile(f"preparation {key}")
            preparations[key] = (unit == "mCi/mg", None if concentration is None else concentration.value, low, high)
        self.preparations = preparations

    def adequate(self, cd34_per_kg: Decimal | None, mnc_per_kg: Decimal | None) -> bool:
        """:attr:`mibg.core.stem_cells.StemCellStatus.adequate` with the S2 minimums of this definition."""
        return ((cd34_per_kg is not None and cd34_per_kg >= self.min_cd34)
                or (mnc_per_kg is not None and mnc_per_kg >= self.min_mnc))

    def plausible(self, weight: Decimal, dose: Decimal, prior: Decimal, cd34_per_kg: Decimal | None,
                  mnc_per_kg: Decimal | None, last: date | None, day: date | None) -> bool:
        """True when the reference's validation passes these values for sure (False: ask the reference)."""
        return (_in_range(weight, self.weight, False) and _in_range(dose, self.mci_per_kg, False)
                and _in_range(prior, self.cumulative, True)
                and (cd34_per_kg is None or _in_range(cd34_per_kg, self.cells, True))
                and (mnc_per_kg is None or _in_range(mnc_per_kg, self.cells, True))
                and (last is None or day is None or not last > day))

    def blocks(self, weight: Decimal, dose: Decimal, pheo: bool, adequate: bool, prior: Decimal, last: date | None,
               day: date | None) -> list[tuple[str, bool]]:
        """R1, S2, R2 and T5, in the order of the planner's findings (:mod:`mibg.core.dosing`), for valid values."""
        blocks: list[tuple[str, bool]] = []
        if dose > self.r1_max or dose < self.r1_min:
            blocks.append(("R1", False))
        if not adequate:
            if dose > self.gate:
                blocks.append(("S2", False))
            elif dose == self.gate:
                blocks.append(("S2", True))
        if pheo and weight * dose > min(self.r2_total, self.r2_per_kg * weight):
            blocks.append(("R2", True))
        if prior > 0 or last is not None:
            if prior + dose > self.t5_max:
                blocks.append(("T5", False))
            if last is None or day is None or not day > add_months(last, self.t5_months):
                blocks.append(("T5", False))
            if not adequate:
                blocks.append(("T5", False))
        return blocks

    def request_blocks(self, request: DoseRequestFields) -> tuple[Blocks, bool] | None:
        """(every limit that blocks ``request`` before chair clearances, stem cells adequate), as
        the planner's findings give them; None when the full planner must decide (see the module)."""
        if (request.specific_activity_ci_per_mmol is not None or request.specific_activity_mci_per_mg is not None
                or request.stock_concentration_mci_per_ml is not None or request.calibration_time is not None
                or request.administration_time is not None):
            return None
        weight, dose, prior = request.weight_kg, request.mci_per_kg, request.prior_mci_per_kg
        cd34, mnc = request.cd34_per_kg, request.marrow_mnc_per_kg
        last, day = request.last_mibg_date, request.treatment_date
        volume, minutes, key = request.final_volume_ml, request.infusion_min, request.preparation
        if not self.plausible(weight, dose, prior, cd34, mnc, last, day):
            return None
        if (volume is not None and not _in_range(volume, self.volume, False)) or (
                minutes is not None and not _in_range(minutes, self.infusion, False)):
            return None
        preparation = None
        if key is not None:
            preparation = self.preparations.get(key)
            if preparation is None:
                return None
        adequate = self.adequate(cd34, mnc)
        blocks = self.blocks(weight, dose, request.diagnosis in PHEO_KINDS, adequate, prior, last, day)
        if preparation is not None:
            per_mg, concentration, shortest, longest = preparation
            if not per_mg:  # no specific activity given (the fast path's condition above)
                blocks.append(("R3", False))
            if volume is not None:
                if not self.r4_min <= volume <= self.r4_max:
                    blocks.append(("R4", False))
                if concentration is not None:
                    drug_volume = weight * dose / concentration
                    if volume < drug_volume:
                        blocks.append(("R4", False))
                    if drug_volume > self.r4_max:
                        blocks.append(("R4", False))
            if minutes is not None and not shortest <= minutes <= longest:
                blocks.append(("R6", False))
        return tuple(blocks), adequate


#: The compiled limits of the last few definition objects, keyed by identity (the object is kept, so its id is not
#: reused); None for a definition that could not be compiled.
_COMPILED: dict[int, tuple[ProtocolDefinition, DoseLimits | None]] = {}


def compile_dose_limits(protocol: ProtocolDefinition) -> DoseLimits | None:
    """The compiled limits of ``protocol`` (made once per definition object), or None: use the reference."""
    entry = _COMPILED.get(id(protocol))
    if entry is not None and entry[0] is protocol:
        return entry[1]
    try:
        limits: DoseLimits | None = DoseLimits(protocol)
    except CannotCompile:
        limits = None
    if len(_COMPILED) >= 16:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[id(protocol)] = (protocol, limits)
    return limits


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "PHEO_KINDS",
    "Blocks",
    "CannotCompile",
    "DoseLimits",
    "compile_dose_limits",
    "quantity",
    "site_days",
]
