"""Whole-body retention, time-integrated activity coefficient and whole-body absorbed dose from exposure-rate
readings at 1 m (clinical-reference §4.3, §4.4; decisions.md "Radiation safety and dosimetry").

The method, step by step (each step is shown in the result with its numbers):

1. **Readings** (:class:`Reading`): time in hours after the start of the infusion, exposure rate in mR/h
   (the survey meter's unit, clinical-reference §2.3) at 1 m, optional background. Net = reading - background.
   The first reading, after the end of the infusion and before the first void, defines 100 % retention:
   r(t) = net(t) / net(t0) (§4.3 step 1).
2. **Fit** (:func:`retention_fit`): r(t) = sum_i a_i exp(-lambda_i (t - t0)), by least squares on ln r
   (survey meters are specified to a percentage of reading, so the errors are relative). The
   mono-exponential (a, lambda) is fitted with 3 or more readings; the bi-exponential (a1, lambda1, a2,
   lambda2) is also tried with 7 or more, and the model with the lower **AICc** is chosen (Burnham &
   Anderson, small-sample AIC, K = curve parameters + 1 for the residual variance, so AICc is defined for
   the bi-exponential only from n = K + 2 = 7). Standard errors come from the covariance matrix of
   ``scipy.optimize.curve_fit`` (scaled by the residual variance).
3. **tau** (time-integrated activity coefficient, h) from the start of the infusion to infinity: r = 1 from
   the start of the infusion to the first reading (decisions.md), then the fitted curve:
   tau = t0 + sum_i a_i / lambda_i. When no fit is possible (two readings, or a fit that fails) tau comes
   from trapezoids over the readings plus an exponential tail r_last / lambda_last from the last two
   readings (§4.3 step 2), and the result says so. The trapezoid value is always shown as a cross-check.
4. **Dose** (:func:`whole_body_dose`): D = A0[Bq] x tau[s] x (E_e + phi x E_gamma)[MeV] x J/MeV / m[kg]
   (§4.3 step 5), with phi shown and the electron-only lower bound (phi = 0); a site-configured whole-body
   S-value per kg replaces the energy method and says so.

Numbers: entered values (times, readings, activity, weight, phi) are exact ``Decimal``; fits and integrals
run in float, and the values that come out of them (tau, half-lives, dose, predicted times) are ``float``.
``to_json()`` writes the entered values as exact text and the fitted ones as JSON numbers (mibg.core.serial). scipy and numpy are imported only inside the fit, so
importing this module is fast.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING

from mibg.core.errors import InputError
from mibg.core.plausibility import plausible_range
from mibg.core.results import Calculation, Finding, InputUsed, Severity
from mibg.core.serial import JSON, Reader, ShapeError, dec, envelope, num
from mibg.core.units import Activity, parse_activity_mci, parse_decimal, parse_weight_kg
from mibg.protocol import ProtocolDefinition, load_protocol

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

SECONDS_PER_HOUR = 3600
HOURS_PER_DAY = 24
LN2 = math.log(2)

MONO = "mono-exponential"
BI = "bi-exponential"
TRAPEZOID = "trapezoid"

#: The fewest readings: the first defines r = 1, a second is needed to see clearance.
MIN_READINGS = 2
#: A fit with an uncertainty needs one degree of freedom beyond the two mono-exponential parameters.
MIN_READINGS_FOR_FIT = 3
#: AICc with K = 4 curve parameters + 1 (variance) is defined only for n >= K + 2 (see the module docstring).
MIN_READINGS_FOR_BI = 7
#: Residual floor for AICc (ln r units, squared, per point): an exact fit would give ln(0).
_RSS_FLOOR_PER_POINT = 1e-20
#: Two bi-exponential rates closer than this ratio describe one component: the fit is degenerate.
_DISTINCT_RATE_RATIO = 1.05
#: ln(lambda) is kept within these bounds during the fit (lambda from 9e-14 /h to 148 /h).
_LOG_RATE_BOUNDS = (-30.0, 5.0)
#: Product choice: a fit and the trapezoid cross-check further apart than this are flagged for review.
CROSS_CHECK_TOLERANCE = 0.20

COLUMNS = ("hours", "mrem_per_h", "background_mrem_per_h")
#: Sanity ceilings, far above any clinical value, low enough to catch a slipped decimal point: readings end
#: within 90 days; 5000 mCi unshielded gives 1100 mR/h at 1 m (0.22 mR/h per mCi, §2.2). Site parameters
#: ``plausible_reading_hours_max`` and ``plausible_exposure_rate_mr_per_h_max`` of the protocol definition.
MAX_HOURS = plausible_range("reading_hours").maximum
MAX_MREM_PER_H = plausible_range("exposure_rate_mr_per_h").maximum
#: The smallest net reading used (product choice): 0.001 mR/h, below any survey meter's resolution.
MIN_NET_MREM_PER_H = Decimal("0.001")
#: Product choice: a whole-body effective half-life below this is implausible for 131I-MIBG (23 +/- 5 h in
#: children, clinical-reference §4.1 [WIL]); it suggests times entered in days instead of hours.
IMPLAUSIBLE_HALF_LIFE_H = 6.0

_REF_RETENTION = "clinical-reference §4.3 steps 1-2; decisions.md 'Retention fit', 'Time-integrated activity coefficient'"
_REF_DOSE = "clinical-reference §4.3 step 5, §4.4; decisions.md 'Whole-body dose'"


# --------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """One exposure-rate reading at 1 m.

    ``hours``: hours after the start of the infusion [h]; ``mrem_per_h``: the meter reading at 1 m
    [mR/h]; ``background_mrem_per_h``: background at the same time [mR/h], 0 when not measured;
    ``label``: where the reading came from (e.g. ``line 3``), used in error messages.
    Strings are accepted and parsed exactly; negative or non-numeric values raise :class:`InputError`.

    >>> Reading(Decimal("24"), Decimal("29.0"), Decimal("0.1")).net_mrem_per_h
    Decimal('28.9')
    """

    hours: Decimal
    mrem_per_h: Decimal
    background_mrem_per_h: Decimal = Decimal(0)
    label: str = ""

    def __post_init__(self) -> None:
        where = self.label or "reading"
        for column, maximum in zip(COLUMNS, (MAX_HOURS, MAX_MREM_PER_H, MAX_MREM_PER_H), strict=True):
            value = parse_decimal(f"{column} ({where})", getattr(self, column), minimum=Decimal(0), maximum=maximum)
            object.__setattr__(self, column, value)

    @property
    def net_mrem_per_h(self) -> Decimal:
        """Reading minus background [mR/h at 1 m]."""
        return self.mrem_per_h - self.background_mrem_per_h


def reading_from_row(row: Mapping[str, object], label: str) -> Reading:
    """A :class:`Reading` from one table row with the columns ``hours``, ``mrem_per_h`` and, optionally,
    ``background_mrem_per_h`` (an empty background cell means 0). Errors name the column and ``label``.

    >>> reading_from_row({"hours": "0.5", "mrem_per_h": "60.0"}, "line 2").mrem_per_h
    Decimal('60.0')
    """
    background = row.get("background_mrem_per_h")
    if background is None or str(background).strip() == "":
        background = "0"
    return Reading(row.get("hours"), row.get("mrem_per_h"), background, label)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionPoint:
    """One reading as retention: ``hours`` after the start of the infusion [h], ``net_mrem_per_h``
    [mR/h at 1 m], ``retention`` r = net / net(first) [1]."""

    hours: Decimal
    net_mrem_per_h: Decimal
    retention: Decimal
    label: str

    def to_json(self) -> JSON:
        return {"hours": dec(self.hours), "net_mrem_per_h": dec(self.net_mrem_per_h), "retention": dec(self.retention),
                "label": self.label}

    @classmethod
    def from_json(cls, r: Reader) -> RetentionPoint:
        return cls(r.decimal("hours"), r.decimal("net_mrem_per_h"), r.decimal("retention"), r.text("label"))


@dataclass(frozen=True, slots=True)
class Component:
    """One term a x exp(-lambda (t - t0)) of the retention curve.

    ``amplitude`` a [1, fraction of the first reading]; ``decay_per_h`` lambda [1/h]; ``*_se``: one
    standard error, or None when it cannot be estimated.

    >>> round(Component(1.0, math.log(2) / 24).half_life_h, 6)
    24.0
    """

    amplitude: float
    decay_per_h: float
    amplitude_se: float | None = None
    decay_per_h_se: float | None = None

    @property
    def half_life_h(self) -> float:
        """Effective half-life ln 2 / lambda [h]."""
        return LN2 / self.decay_per_h

    @property
    def half_life_se_h(self) -> float | None:
        """Standard error of the half-life [h], delta method: ln 2 / lambda^2 x SE(lambda)."""
        if self.decay_per_h_se is None:
            return None
        return LN2 / self.decay_per_h**2 * self.decay_per_h_se

    def to_json(self) -> JSON:
        """Fitted floats as JSON numbers (exact through ``repr``); the half-life is written for readers."""
        return {
            "amplitude": num(self.amplitude),
            "amplitude_se": num(self.amplitude_se),
            "decay_per_h": num(self.decay_per_h),
            "decay_per_h_se": num(self.decay_per_h_se),
            "half_life_h": num(self.half_life_h),
            "half_life_se_h": num(self.half_life_se_h),
        }

    @classmethod
    def from_json(cls, r: Reader) -> Component:
        return cls(r.floating("amplitude"), r.floating("decay_per_h"), r.opt_floating("amplitude_se"),
                   r.opt_floating("decay_per_h_se"))


@dataclass(frozen=True, slots=True)
class ModelFit:
    """One fitted model r(t) = sum a_i exp(-lambda_i (t - t0)), components fastest first.

    ``covariance`` is over (a1, lambda1[, a2, lambda2]) [1 and 1/h]; ``rss`` is the residual sum of squares of
    ln r; ``aicc`` is None when the model has too few readings for AICc.
    """

    model: str
    components: tuple[Component, ...]
    covariance: tuple[tuple[float, ...], ...]
    rss: float
    n_points: int
    aicc: float | None

    @property
    def area_after_first_h(self) -> float:
        """Integral of the curve from the first reading to infinity, sum a_i / lambda_i [h]."""
        return sum(c.amplitude / c.decay_per_h for c in self.components)

    @property
    def area_after_first_se_h(self) -> float | None:
        """Standard error of sum a_i / lambda_i [h] from the full covariance (delta method)."""
        gradient: list[float] = []
        for c in self.components:
            gradient += [1 / c.decay_per_h, -c.amplitude / c.decay_per_h**2]
        return _propagate(gradient, self.covariance)

    @property
    def area_equivalent_half_life_h(self) -> float:
        """ln 2 x sum(a_i / lambda_i) / sum(a_i) [h]: the single half-life with the same area (= T_eff for one
        component)."""
        return LN2 * self.area_after_first_h / sum(c.amplitude for c in self.components)

    @property
    def area_equivalent_half_life_se_h(self) -> float | None:
        area = self.area_after_first_h
        total = sum(c.amplitude for c in self.components)
        gradient: list[float] = []
        for c in self.components:
            gradient += [LN2 * (total / c.decay_per_h - area) / total**2, -LN2 * c.amplitude / (c.decay_per_h**2 * total)]
        return _propagate(gradient, self.covariance)

    def retention_after(self, hours_after_first: float) -> float:
        """r at ``hours_after_first`` hours after the first reading [1]."""
        return sum(c.amplitude * math.exp(-c.decay_per_h * hours_after_first) for c in self.components)

    def to_json(self) -> JSON:
        return {
            "model": self.model,
            "components": [c.to_json() for c in self.components],
            "covariance": [[num(v) for v in row] for row in self.covariance],
            "rss_ln_r": num(self.rss),
            "n_points": self.n_points,
            "aicc": num(self.aicc),
        }

    @classmethod
    def from_json(cls, r: Reader) -> ModelFit:
        raw = r.raw("covariance")
        if not isinstance(raw, list):
            raise ShapeError(f"{r.path}.covariance", "expected a list of rows")
        covariance = tuple(Reader({"row": row}, f"{r.path}.covariance[{i}]").floats("row") for i, row in enumerate(raw))
        return cls(r.text("model"), r.each("components", Component.from_json), covariance, r.floating("rss_ln_r"),
                   r.integer("n_points"), r.opt_floating("aicc"))


@dataclass(frozen=True, slots=True)
class TrapezoidIntegral:
    """tau by trapezoids plus an exponential tail (clinical-reference §4.3 step 2), all in hours.

    ``start_h``: r = 1 from the start of the infusion to the first reading (= t0); ``trapezoid_h``: trapezoids
    over the readings; ``tail_decay_per_h``: lambda_last = ln(r[n-1] / r[n]) / (t[n] - t[n-1]) [1/h];
    ``tail_h`` = r_last / lambda_last; ``tiac_h`` = the sum.
    """

    start_h: float
    segments: tuple[float, ...]
    tail_decay_per_h: float
    last_hours: float
    last_retention: float
    tail_h: float

    @property
    def trapezoid_h(self) -> float:
        return sum(self.segments)

    @property
    def tiac_h(self) -> float:
        return self.start_h + self.trapezoid_h + self.tail_h

    @property
    def tail_half_life_h(self) -> float:
        return LN2 / self.tail_decay_per_h

    def retention_at(self, hours: float, points: Sequence[RetentionPoint]) -> float:
        """Linear between readings, the exponential tail after the last one [1]."""
        if hours >= self.last_hours:
            return self.last_retention * math.exp(-self.tail_decay_per_h * (hours - self.last_hours))
        for left, right in pairwise(points):
            t1, t2 = float(left.hours), float(right.hours)
            if t1 <= hours <= t2:
                r1, r2 = float(left.retention), float(right.retention)
                return r1 + (r2 - r1) * (hours - t1) / (t2 - t1)
        return 1.0

    def to_json(self) -> JSON:
        return {
            "start_h": num(self.start_h),
            "trapezoid_h": num(self.trapezoid_h),
            "segments_h": [num(v) for v in self.segments],
            "tail_decay_per_h": num(self.tail_decay_per_h),
            "tail_half_life_h": num(self.tail_half_life_h),
            "last_hours": num(self.last_hours),
            "last_retention": num(self.last_retention),
            "tail_h": num(self.tail_h),
            "tiac_h": num(self.tiac_h),
        }

    @classmethod
    def from_json(cls, r: Reader) -> TrapezoidIntegral:
        return cls(r.floating("start_h"), r.floats("segments_h"), r.floating("tail_decay_per_h"), r.floating("last_hours"),
                   r.floating("last_retention"), r.floating("tail_h"))


@dataclass(frozen=True, slots=True)
class RetentionFit:
    """The whole-body retention curve and its time-integrated activity coefficient.

    ``model``: ``mono-exponential``, ``bi-exponential`` or ``trapezoid`` (no fit possible: trapezoids plus the
    tail). ``curve``: the chosen fit (None for ``trapezoid``); ``candidates``: every fit tried, with AICc;
    ``trapezoid``: the §4.3 step 2 integral (None when the last two readings do not fall).
    ``tiac_h``: tau [h] from the start of the infusion; ``tiac_se_h``: its standard error [h] or None.
    ``effective_half_life_h`` [h]: T_eff for one component; for two, the area-equivalent half-life
    ln 2 x sum(a_i/lambda_i) / sum(a_i); for ``trapezoid``, ln 2 / lambda_last.
    """

    model: str
    method: str
    points: tuple[RetentionPoint, ...]
    curve: ModelFit | None
    candidates: tuple[ModelFit, ...]
    trapezoid: TrapezoidIntegral | None
    tiac_h: float
    tiac_se_h: float | None
    effective_half_life_h: float
    effective_half_life_se_h: float | None
    notes: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    calculations: tuple[Calculation, ...] = ()

    @property
    def first_hours(self) -> float:
        """t0, the time of the first reading [h after the start of the infusion]."""
        return float(self.points[0].hours)

    @property
    def components(self) -> tuple[Component, ...]:
        """The chosen curve's components; for ``trapezoid``, the tail term as seen from the last reading."""
        if self.curve is not None:
            return self.curve.components
        assert self.trapezoid is not None
        return (Component(self.trapezoid.last_retention, self.trapezoid.tail_decay_per_h),)

    def retention_at(self, hours: float) -> float:
        """r(t) at ``hours`` after the start of the infusion [1]: 1 before the first reading, then the curve.

        For plotting and for predicted release times.
        """
        if hours <= self.first_hours:
            return 1.0
        if self.curve is not None:
            return self.curve.retention_after(hours - self.first_hours)
        assert self.trapezoid is not None
        return self.trapezoid.retention_at(hours, self.points)

    def remaining_half_life_h(self, hours: float) -> float:
        """ln 2 x (area under the curve after ``hours``) / r(hours) [h]: the single half-life that clears the
        curve's remaining area from ``hours`` on. Mono-exponential: T_eff at any time; bi-exponential: it
        lengthens towards the slow component; ``trapezoid``: the tail's half-life."""
        if self.curve is None:
            assert self.trapezoid is not None
            return self.trapezoid.tail_half_life_h
        s = max(0.0, hours - self.first_hours)
        weights = [c.amplitude * math.exp(-c.decay_per_h * s) for c in self.curve.components]
        area = sum(w / c.decay_per_h for w, c in zip(weights, self.curve.components, strict=True))
        return LN2 * area / sum(weights)

    def hours_to_reach(self, fraction: float) -> float:
        """The time [h after the start of the infusion] at which the curve falls to ``fraction`` of the first
        reading; the first reading's time when the curve starts at or below it.

        Mono-exponential: t = t0 + ln(a / fraction) / lambda (closed form). Bi-exponential: bisection (the
        curve falls monotonically). ``trapezoid``: the tail from the last two readings,
        t = t_last + ln(r_last / fraction) / lambda_last (clinical-reference §4.4, "projected").
        """
        if fraction <= 0:
            raise ValueError("a retention fraction above zero is needed")
        t0 = self.first_hours
        if self.curve is None:
            assert self.trapezoid is not None
            tail = self.trapezoid
            return max(t0, tail.last_hours + math.log(tail.last_retention / fraction) / tail.tail_decay_per_h)
        components = self.curve.components
        if sum(c.amplitude for c in components) <= fraction:
            return t0
        if len(components) == 1:
            only = components[0]
            return t0 + math.log(only.amplitude / fraction) / only.decay_per_h
        return t0 + _solve_falling(self.curve.retention_after, fraction, 1 / components[-1].decay_per_h)

    def to_json(self) -> JSON:
        """The retention fit's one exact shape (mibg.core.serial): the readings as exact text, the fitted floats
        as JSON numbers (floats only inside curve fits, decisions.md "Units"), every candidate fit."""
        return {
            **envelope(RETENTION_SCHEMA, DOSIMETRY_VERSION),
            "model": self.model,
            "method": self.method,
            "first_reading_h": num(self.first_hours),
            "points": [p.to_json() for p in self.points],
            "components": [c.to_json() for c in self.components],
            "fit": self.curve.to_json() if self.curve else None,
            "candidates": [c.to_json() for c in self.candidates],
            "trapezoid": self.trapezoid.to_json() if self.trapezoid else None,
            "tiac_h": num(self.tiac_h),
            "tiac_se_h": num(self.tiac_se_h),
            "effective_half_life_h": num(self.effective_half_life_h),
            "effective_half_life_se_h": num(self.effective_half_life_se_h),
            "notes": list(self.notes),
            "findings": [f.to_json() for f in self.findings],
            "calculations": [c.to_json() for c in self.calculations],
            "reference": _REF_RETENTION,
        }

    @classmethod
    def from_json(cls, data: object, path: str = "retention") -> RetentionFit:
        r = Reader.result(data, RETENTION_SCHEMA, DOSIMETRY_VERSION, path)
        fit, trapezoid = r.opt_child("fit"), r.opt_child("trapezoid")
        if fit is None and trapezoid is None:
            raise ShapeError(f"{path}.fit", "a retention fit needs a fitted curve or the trapezoid integral")
        return cls(
            model=r.text("model"), method=r.text("method"), points=r.each("points", RetentionPoint.from_json),
            curve=ModelFit.from_json(fit) if fit else None, candidates=r.each("candidates", ModelFit.from_json),
            trapezoid=TrapezoidIntegral.from_json(trapezoid) if trapezoid else None, tiac_h=r.floating("tiac_h"),
            tiac_se_h=r.opt_floating("tiac_se_h"), effective_half_life_h=r.floating("effective_half_life_h"),
            effective_half_life_se_h=r.opt_floating("effective_half_life_se_h"), notes=r.texts("notes"),
            findings=r.each("findings", Finding.from_json), calculations=r.each("calculations", Calculation.from_json))


@dataclass(frozen=True, slots=True)
class WholeBodyDose:
    """Whole-body absorbed dose from A0 and tau.

    ``administered``: A0 (mCi, with MBq/Bq); ``weight_kg`` [kg]; ``tiac_h`` [h]; ``cumulated_activity_mbq_h``
    A0 x tau [MBq h]; ``photon_absorbed_fraction`` phi [1] and where it came from; ``energy_per_decay_mev``
    E_e + phi E_gamma [MeV]; ``method``: ``energy deposition`` or ``site S-value``; ``dose_gy`` [Gy] and its
    standard error from tau [Gy]; ``electron_only_gy`` [Gy], the phi = 0 lower bound.
    """

    administered: Activity
    weight_kg: Decimal
    tiac_h: float
    cumulated_activity_mbq_h: float
    photon_absorbed_fraction: Decimal
    photon_absorbed_fraction_source: str
    energy_per_decay_mev: Decimal
    method: str
    s_value_gy_kg_per_bq_s: Decimal | None
    dose_gy: float
    dose_se_gy: float | None
    electron_only_gy: float
    dose_at_phi_gy: float
    notes: tuple[str, ...] = ()
    calculations: tuple[Calculation, ...] = ()

    def to_json(self) -> JSON:
        """The whole-body dose's one exact shape (mibg.core.serial): the administered activity, weight and
        constants as exact text (never floats); tau and the doses computed from the fit as JSON numbers."""
        return {
            **envelope(WHOLE_BODY_DOSE_SCHEMA, DOSIMETRY_VERSION),
            "administered_mci": dec(self.administered.mci),
            "administered_mbq": dec(self.administered.mbq),
            "weight_kg": dec(self.weight_kg),
            "tiac_h": num(self.tiac_h),
            "cumulated_activity_mbq_h": num(self.cumulated_activity_mbq_h),
            "photon_absorbed_fraction": dec(self.photon_absorbed_fraction),
            "photon_absorbed_fraction_source": self.photon_absorbed_fraction_source,
            "energy_per_decay_mev": dec(self.energy_per_decay_mev),
            "method": self.method,
            "s_value_gy_kg_per_bq_s": dec(self.s_value_gy_kg_per_bq_s),
            "whole_body_dose_gy": num(self.dose_gy),
            "whole_body_dose_se_gy": num(self.dose_se_gy),
            "whole_body_dose_electron_only_gy": num(self.electron_only_gy),
            "whole_body_dose_at_phi_gy": num(self.dose_at_phi_gy),
            "notes": list(self.notes),
            "calculations": [c.to_json() for c in self.calculations],
            "reference": _REF_DOSE,
        }

    @classmethod
    def from_json(cls, data: object, path: str = "whole_body_dose") -> WholeBodyDose:
        r = Reader.result(data, WHOLE_BODY_DOSE_SCHEMA, DOSIMETRY_VERSION, path)
        administered = Activity(r.decimal("administered_mci"))
        r.check("administered_mbq", dec(administered.mbq))
        return cls(
            administered=administered, weight_kg=r.decimal("weight_kg"), tiac_h=r.floating("tiac_h"),
            cumulated_activity_mbq_h=r.floating("cumulated_activity_mbq_h"),
            photon_absorbed_fraction=r.decimal("photon_absorbed_fraction"),
            photon_absorbed_fraction_source=r.text("photon_absorbed_fraction_source"),
            energy_per_decay_mev=r.decimal("energy_per_decay_mev"), method=r.text("method"),
            s_value_gy_kg_per_bq_s=r.opt_decimal("s_value_gy_kg_per_bq_s"), dose_gy=r.floating("whole_body_dose_gy"),
            dose_se_gy=r.opt_floating("whole_body_dose_se_gy"),
            electron_only_gy=r.floating("whole_body_dose_electron_only_gy"),
            dose_at_phi_gy=r.floating("whole_body_dose_at_phi_gy"), notes=r.texts("notes"),
            calculations=r.each("calculations", Calculation.from_json))


RETENTION_SCHEMA, WHOLE_BODY_DOSE_SCHEMA, DOSIMETRY_VERSION = "mibg.retention_fit", "mibg.whole_body_dose", 1


# --------------------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------------------


def retention_points(readings: Sequence[Reading]) -> tuple[RetentionPoint, ...]:
    """Check the readings and normalise them to the first: r = net / net(first) (clinical-reference §4.3 step 1).

    Raises :class:`InputError` for fewer than two readings, times not strictly increasing, a net reading below
    MIN_NET_MREM_PER_H, or a last reading not below the first (a rising or flat curve has no clearance to fit).

    >>> [str(p.retention) for p in retention_points([Reading(Decimal("0.5"), Decimal("60")),
    ...                                               Reading(Decimal("24"), Decimal("30"))])]
    ['1', '0.5']
    """
    if len(readings) < MIN_READINGS:
        raise InputError("readings", f"{len(readings)} reading(s) given; at least {MIN_READINGS} are needed "
                         "(the first, before the first void, and at least one later)")
    labels = [r.label or f"reading {i + 1}" for i, r in enumerate(readings)]
    for (earlier, later), label in zip(pairwise(readings), labels[1:], strict=True):
        if later.hours <= earlier.hours:
            raise InputError(f"hours ({label})", f"times must be strictly increasing: {later.hours} h is not after "
                             f"{earlier.hours} h")
    for reading, label in zip(readings, labels, strict=True):
        if reading.net_mrem_per_h < MIN_NET_MREM_PER_H:
            raise InputError(f"mrem_per_h ({label})", f"the reading minus background is {reading.net_mrem_per_h} "
                             f"mR/h; it must be at least {MIN_NET_MREM_PER_H} mR/h")
    first, last = readings[0].net_mrem_per_h, readings[-1].net_mrem_per_h
    if last >= first:
        raise InputError(f"mrem_per_h ({labels[-1]})", f"the last net reading ({last} mR/h) is not below the first "
                         f"({first} mR/h): a rising or flat curve cannot be fitted; check the readings")
    return tuple(
        RetentionPoint(r.hours, r.net_mrem_per_h, r.net_mrem_per_h / first, label)
        for r, label in zip(readings, labels, strict=True)
    )


def trapezoid_tiac(points: Sequence[RetentionPoint]) -> TrapezoidIntegral:
    """tau [h] by trapezoids over the readings, r = 1 from 0 to t0, and the tail r_last / lambda_last with
    lambda_last from the last two readings (clinical-reference §4.3 step 2).

    Raises :class:`InputError` when the last two readings do not fall (no tail can be computed).
    """
    (t_prev, r_prev), (t_last, r_last) = ((float(p.hours), float(p.retention)) for p in points[-2:])
    if r_last >= r_prev:
        raise InputError(f"mrem_per_h ({points[-1].label})", "the last two readings do not fall, so the exponential "
                         "tail (clinical-reference §4.3 step 2) cannot be computed; take another reading")
    decay = math.log(r_prev / r_last) / (t_last - t_prev)
    segments = tuple(
        (float(a.retention) + float(b.retention)) / 2 * float(b.hours - a.hours) for a, b in pairwise(points)
    )
    return TrapezoidIntegral(float(points[0].hours), segments, decay, t_last, r_last, r_last / decay)


def retention_fit(
    readings: Sequence[Reading], protocol: ProtocolDefinition | None = None, method: str = "fit"
) -> RetentionFit:
    """Fit the whole-body retention and integrate it (module docstring, steps 1-3).

    ``readings``: in time order, the first after the end of the infusion and before the first void.
    ``method``: ``fit`` (mono/bi-exponential, trapezoids only when no fit is possible) or ``trapezoid`` (the
    clinical-reference §4.3 step 2 method on request, e.g. to reproduce §4.4).
    Returns the chosen model, tau [h] from the start of the infusion with its standard error, the effective
    half-life(s) [h], every candidate fit with AICc, the trapezoid cross-check and the calculations.
    """
    if method not in ("fit", TRAPEZOID):
        raise InputError("method", f"'{method}' is not a retention method; use 'fit' or 'trapezoid'")
    protocol = protocol or load_protocol()
    physical_h = float(protocol.constant("i131_half_life_days")) * HOURS_PER_DAY
    points = retention_points(readings)
    notes: list[str] = []
    trapezoid = _trapezoid_or_note(points, notes)
    if method == TRAPEZOID:
        notes.append("The trapezoid method was requested: no fit was made.")
    candidates = _candidate_fits(points, notes) if method == "fit" else ()
    curve = _choose(candidates, notes)
    if curve is None:
        if trapezoid is None:
            raise InputError(f"mrem_per_h ({points[-1].label})", "no retention fit is possible and the last two "
                             "readings do not fall, so tau cannot be computed; take another reading")
        return _trapezoid_result(points, candidates, trapezoid, notes, physical_h)
    return _fit_result(points, candidates, curve, trapezoid, notes, physical_h)


def _trapezoid_or_note(points: Sequence[RetentionPoint], notes: list[str]) -> TrapezoidIntegral | None:
    try:
        return trapezoid_tiac(points)
    except InputError:
        notes.append("The last two readings do not fall: no trapezoid cross-check (clinical-reference §4.3 step 2).")
        return None


def _candidate_fits(points: Sequence[RetentionPoint], notes: list[str]) -> tuple[ModelFit, ...]:
    n = len(points)
    if n < MIN_READINGS_FOR_FIT:
        notes.append(f"{n} readings: no fit is possible (a fit with an uncertainty needs at least "
                     f"{MIN_READINGS_FOR_FIT}).")
        return ()
    hours, log_r = _log_retention(points)
    mono = _fit_mono(hours, log_r)
    if mono is None:
        notes.append("The mono-exponential fit failed (the readings do not fall on a decaying exponential).")
        return ()
    if n < MIN_READINGS_FOR_BI:
        notes.append(f"{n} readings: the bi-exponential model is considered only with at least {MIN_READINGS_FOR_BI} "
                     "(AICc needs n >= K + 2 with K = 4 curve parameters + 1).")
        return (mono,)
    bi = _fit_bi(hours, log_r, mono)
    if bi is None:
        notes.append("The bi-exponential fit did not converge to two distinct components with a finite covariance; "
                     "it was set aside.")
        return (mono,)
    return (mono, bi)


def _choose(candidates: Sequence[ModelFit], notes: list[str]) -> ModelFit | None:
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    best = min(candidates, key=lambda c: math.inf if c.aicc is None else c.aicc)
    scores = ", ".join(f"{c.model} {_g(c.aicc)}" for c in candidates)
    notes.append(f"Model chosen by the lower AICc ({scores}): {best.model}.")
    return best


def _fit_result(
    points: tuple[RetentionPoint, ...],
    candidates: tuple[ModelFit, ...],
    curve: ModelFit,
    trapezoid: TrapezoidIntegral | None,
    notes: list[str],
    physical_h: float,
) -> RetentionFit:
    t0 = float(points[0].hours)
    tiac = t0 + curve.area_after_first_h
    method = (f"{curve.model} fit of ln r by least squares (SciPy), {len(points)} readings; "
              "tau = t0 + sum a_i/lambda_i")
    findings = _half_life_findings(curve.components, curve.area_equivalent_half_life_h, physical_h)
    if trapezoid is not None:
        findings += _cross_check_findings(tiac, trapezoid.tiac_h)
    return RetentionFit(
        model=curve.model,
        method=method,
        points=points,
        curve=curve,
        candidates=candidates,
        trapezoid=trapezoid,
        tiac_h=tiac,
        tiac_se_h=curve.area_after_first_se_h,
        effective_half_life_h=curve.area_equivalent_half_life_h,
        effective_half_life_se_h=curve.area_equivalent_half_life_se_h,
        notes=tuple(notes),
        findings=tuple(findings),
        calculations=(_retention_calculation(points), _fit_tiac_calculation(t0, curve, tiac),
                      *_trapezoid_calculations(trapezoid)),
    )


def _trapezoid_result(
    points: tuple[RetentionPoint, ...],
    candidates: tuple[ModelFit, ...],
    trapezoid: TrapezoidIntegral,
    notes: list[str],
    physical_h: float,
) -> RetentionFit:
    notes.append("tau from trapezoids over the readings plus an exponential tail from the last two readings "
                 "(clinical-reference §4.3 step 2); no uncertainty can be given.")
    return RetentionFit(
        model=TRAPEZOID,
        method="trapezoids over the readings + exponential tail r_n/λ_n (the last reading's retention over the decay "
               "constant of the last two readings; clinical-reference §4.3 step 2)",
        points=points,
        curve=None,
        candidates=candidates,
        trapezoid=trapezoid,
        tiac_h=trapezoid.tiac_h,
        tiac_se_h=None,
        effective_half_life_h=trapezoid.tail_half_life_h,
        effective_half_life_se_h=None,
        notes=tuple(notes),
        findings=tuple(_half_life_findings(
            (Component(1.0, trapezoid.tail_decay_per_h),), trapezoid.tail_half_life_h, physical_h)),
        calculations=(_retention_calculation(points), *_trapezoid_calculations(trapezoid)),
    )


def _half_life_findings(components: Sequence[Component], effective_h: float, physical_h: float) -> list[Finding]:
    """An effective half-life cannot exceed the physical one [h] (1/T_eff = 1/T_phys + 1/T_biol, §2.4); a very
    short one suggests times in days (see IMPLAUSIBLE_HALF_LIFE_H)."""
    findings = [
        Finding("T_EFF", Severity.WARN,
                f"A fitted effective half-life of {_g(c.half_life_h)} h is longer than the physical half-life "
                f"({_g(physical_h)} h), which is impossible: check the readings (geometry, background, units).",
                reference="clinical-reference §2.4")
        for c in components
        if c.half_life_h > physical_h
    ]
    if effective_h < IMPLAUSIBLE_HALF_LIFE_H:
        findings.append(Finding("T_EFF", Severity.WARN,
                                f"The effective half-life {_g(effective_h)} h is implausibly short for whole-body "
                                "131I-MIBG (23 +/- 5 h in children): check that the times are hours after the start "
                                "of the infusion, not days.", reference="clinical-reference §4.1"))
    return findings


def _cross_check_findings(fit_tiac_h: float, trapezoid_tiac_h: float) -> list[Finding]:
    difference = (fit_tiac_h - trapezoid_tiac_h) / trapezoid_tiac_h
    if abs(difference) <= CROSS_CHECK_TOLERANCE:
        return []
    return [Finding("TAU_CROSS_CHECK", Severity.WARN,
                    f"tau from the fit ({_g(fit_tiac_h)} h) and from trapezoids with a tail ({_g(trapezoid_tiac_h)} h) "
                    f"differ by {difference:+.0%} (more than {CROSS_CHECK_TOLERANCE:.0%}): review the readings and "
                    "the model before using the dose.", reference=_REF_RETENTION)]


# --------------------------------------------------------------------------------------------------------
# Fitting (float; numpy and scipy imported here only)
# --------------------------------------------------------------------------------------------------------


def _log_retention(points: Sequence[RetentionPoint]) -> tuple[list[float], list[float]]:
    """Hours after the first reading and ln r for each reading."""
    t0 = float(points[0].hours)
    return [float(p.hours) - t0 for p in points], [math.log(float(p.retention)) for p in points]


def _linear_regression(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope and intercept of y on x."""
    n = len(x)
    mean_x, mean_y = sum(x) / n, sum(y) / n
    sxx = sum((xi - mean_x) ** 2 for xi in x)
    sxy = sum((xi - mean_x) * (yi - mean_y) for xi, yi in zip(x, y, strict=True))
    slope = sxy / sxx
    return slope, mean_y - slope * mean_x


def _curve_fit(
    model: Callable[..., NDArray[np.float64]],
    jacobian: Callable[..., NDArray[np.float64]],
    hours: Sequence[float],
    log_r: Sequence[float],
    start: Sequence[float],
) -> tuple[list[float], list[list[float]], float] | None:
    """curve_fit (Levenberg-Marquardt, analytic Jacobian) with floating-point and covariance warnings handled:
    returns (parameters, covariance, rss), or None when the fit fails or its covariance is not finite."""
    import numpy as np
    from scipy.optimize import OptimizeWarning, curve_fit

    x, y = np.asarray(hours, dtype=float), np.asarray(log_r, dtype=float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            popt, pcov = curve_fit(model, x, y, p0=list(start), jac=jacobian, method="lm", xtol=1e-10,
                                   ftol=1e-10, maxfev=4000)
        except (RuntimeError, ValueError, np.linalg.LinAlgError):
            return None
        residuals = y - model(x, *popt)
    rss = float(np.sum(residuals**2))
    if not (np.all(np.isfinite(popt)) and np.all(np.isfinite(pcov)) and math.isfinite(rss)):
        return None
    return [float(v) for v in popt], [[float(v) for v in row] for row in pcov], rss


def _mono_model(x: NDArray[np.float64], log_a: float, decay: float) -> NDArray[np.float64]:
    return log_a - decay * x


def _mono_jacobian(x: NDArray[np.float64], log_a: float, decay: float) -> NDArray[np.float64]:
    import numpy as np

    result: NDArray[np.float64] = np.column_stack((np.ones_like(x), -x))
    return result


def _fit_mono(hours: Sequence[float], log_r: Sequence[float]) -> ModelFit | None:
    """ln r = ln a - lambda s (s = hours after the first reading). Parameters reported as (a, lambda)."""
    slope, intercept = _linear_regression(hours, log_r)
    if slope >= 0:
        return None
    fitted = _curve_fit(_mono_model, _mono_jacobian, hours, log_r, (intercept, -slope))
    if fitted is None:
        return None
    (log_a, decay), cov, rss = fitted
    if decay <= 0:
        return None
    a = math.exp(log_a)
    # (ln a, lambda) -> (a, lambda): d a = a d(ln a).
    covariance = _scale_covariance(cov, (a, 1.0))
    component = Component(a, decay, _se(covariance, 0), _se(covariance, 1))
    return ModelFit(MONO, (component,), covariance, rss, len(hours), _aicc(rss, len(hours), 2))


def _rate(log_rate: float) -> float:
    """lambda = exp(ln lambda), ln lambda held within _LOG_RATE_BOUNDS so the model stays finite [1/h]."""
    low, high = _LOG_RATE_BOUNDS
    return math.exp(min(max(float(log_rate), low), high))


def _bi_model(x: NDArray[np.float64], la1: float, ll1: float, la2: float, ll2: float) -> NDArray[np.float64]:
    import numpy as np

    rate1, rate2 = _rate(ll1), _rate(ll2)
    result: NDArray[np.float64] = np.logaddexp(la1 - rate1 * x, la2 - rate2 * x)
    return result


def _bi_jacobian(x: NDArray[np.float64], la1: float, ll1: float, la2: float, ll2: float) -> NDArray[np.float64]:
    """d f / d(ln a_i) = w_i and d f / d(ln lambda_i) = -w_i lambda_i s, w_i = a_i e^(-lambda_i s) / r (s = x)."""
    import numpy as np

    rate1, rate2 = _rate(ll1), _rate(ll2)
    u1, u2 = la1 - rate1 * x, la2 - rate2 * x
    total = np.logaddexp(u1, u2)
    w1, w2 = np.exp(u1 - total), np.exp(u2 - total)
    result: NDArray[np.float64] = np.column_stack((w1, -w1 * rate1 * x, w2, -w2 * rate2 * x))
    return result


def _fit_bi(hours: Sequence[float], log_r: Sequence[float], mono: ModelFit) -> ModelFit | None:
    """ln r = ln(a1 exp(-lambda1 s) + a2 exp(-lambda2 s)), fitted in (ln a_i, ln lambda_i) so both stay positive,
    from several starting points; the best acceptable fit (two distinct rates, finite covariance) is kept."""
    best: tuple[list[float], list[list[float]], float] | None = None
    for start in _bi_starts(hours, log_r, mono.components[0]):
        fitted = _curve_fit(_bi_model, _bi_jacobian, hours, log_r, start)
        if fitted is not None and _acceptable_bi(fitted[0]) and (best is None or fitted[2] < best[2]):
            best = fitted
    if best is None:
        return None
    (la1, ll1, la2, ll2), cov, rss = best
    natural = (math.exp(la1), math.exp(ll1), math.exp(la2), math.exp(ll2))
    covariance = _scale_covariance(cov, natural)  # d x = x d(ln x) for every parameter
    components = [Component(natural[0], natural[1], _se(covariance, 0), _se(covariance, 1)),
                  Component(natural[2], natural[3], _se(covariance, 2), _se(covariance, 3))]
    if components[0].decay_per_h < components[1].decay_per_h:  # fastest first
        components.reverse()
        covariance = _permute(covariance, (2, 3, 0, 1))
    return ModelFit(BI, tuple(components), covariance, rss, len(hours), _aicc(rss, len(hours), 4))


def _acceptable_bi(params: Sequence[float]) -> bool:
    low, high = _LOG_RATE_BOUNDS
    _, ll1, _, ll2 = params
    inside = all(low < v < high for v in (ll1, ll2))
    return inside and abs(ll1 - ll2) >= math.log(_DISTINCT_RATE_RATIO)


def _bi_starts(hours: Sequence[float], log_r: Sequence[float], mono: Component) -> list[tuple[float, ...]]:
    """Starting points in (ln a1, ln lambda1, ln a2, ln lambda2): curve peeling (slow phase from the later half of
    the readings, fast phase from what is left early), then two generic splits around the mono-exponential."""
    lam = mono.decay_per_h
    starts: list[tuple[float, ...]] = []
    half = max(2, len(hours) // 2)
    slope, intercept = _linear_regression(hours[-half:], log_r[-half:])
    if slope < 0:
        slow, slow_a = -slope, math.exp(intercept)
        early = [(s, math.exp(y) - slow_a * math.exp(-slow * s)) for s, y in zip(hours[:-half], log_r[:-half], strict=True)]
        positive = [(s, math.log(d)) for s, d in early if d > 0]
        if len(positive) >= 2:
            fast_slope, fast_intercept = _linear_regression([p[0] for p in positive], [p[1] for p in positive])
            if -fast_slope > slow * _DISTINCT_RATE_RATIO:
                starts.append((fast_intercept, math.log(-fast_slope), intercept, math.log(slow)))
        starts.append((math.log(max(1 - slow_a, 0.05)), math.log(5 * slow), intercept, math.log(slow)))
    starts.append((math.log(0.5), math.log(3 * lam), math.log(0.5), math.log(lam / 2)))
    starts.append((math.log(0.7), math.log(10 * lam), math.log(0.3), math.log(0.7 * lam)))
    return starts


def _aicc(rss: float, n: int, curve_parameters: int) -> float | None:
    """AICc = n ln(RSS/n) + 2K + 2K(K+1)/(n-K-1), K = curve parameters + 1; None when n - K - 1 <= 0."""
    k = curve_parameters + 1
    if n - k - 1 <= 0:
        return None
    rss = max(rss, n * _RSS_FLOOR_PER_POINT)
    return n * math.log(rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _scale_covariance(cov: Sequence[Sequence[float]], scale: Sequence[float]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(cov[i][j] * scale[i] * scale[j] for j in range(len(scale))) for i in range(len(scale)))


def _permute(cov: Sequence[Sequence[float]], order: Sequence[int]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(cov[i][j] for j in order) for i in order)


def _se(cov: Sequence[Sequence[float]], index: int) -> float | None:
    variance = cov[index][index]
    return math.sqrt(variance) if variance >= 0 and math.isfinite(variance) else None


def _propagate(gradient: Sequence[float], cov: Sequence[Sequence[float]]) -> float | None:
    """sqrt(g^T C g), or None when it is not a finite, non-negative number."""
    variance = sum(gradient[i] * cov[i][j] * gradient[j] for i in range(len(gradient)) for j in range(len(gradient)))
    return math.sqrt(variance) if math.isfinite(variance) and variance >= 0 else None


def _solve_falling(curve: Callable[[float], float], target: float, scale: float) -> float:
    """The s >= 0 at which a monotonically falling ``curve(s)`` equals ``target`` (bisection to 1e-9 h)."""
    low, high = 0.0, max(scale, 1.0)
    while curve(high) > target:
        low, high = high, high * 2
    while high - low > 1e-9 * max(1.0, high):
        middle = (low + high) / 2
        if curve(middle) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


# --------------------------------------------------------------------------------------------------------
# Whole-body dose
# --------------------------------------------------------------------------------------------------------


def whole_body_dose(
    administered: Activity,
    weight_kg: Decimal,
    retention: RetentionFit,
    protocol: ProtocolDefinition | None = None,
    photon_absorbed_fraction: Decimal | None = None,
) -> WholeBodyDose:
    """Whole-body absorbed dose [Gy] (clinical-reference §4.3 steps 3-5, decisions.md "Whole-body dose").

    D = A0[Bq] x tau[s] x (E_e + phi x E_gamma)[MeV] x J/MeV / m[kg]; phi from ``photon_absorbed_fraction``
    (entered, 0 to 1) or the site parameter. The electron-only lower bound (phi = 0) is always given. A site
    S-value (``whole_body_s_value_gy_per_bq_s_kg``) replaces the method: D = A0 x tau x S / m.
    ``administered``: A0 at the start of the infusion; ``weight_kg``: current weight [kg].

    §4.4: 396 mCi, 22.0 kg, tau 34.89 h -> 2.57 Gy (phi = 0), 3.85 Gy (phi = 0.25).
    """
    protocol = protocol or load_protocol()
    activity = parse_activity_mci(administered.mci, "administered_mci")
    weight = parse_weight_kg(weight_kg)
    phi, phi_source = _photon_fraction(protocol, photon_absorbed_fraction)
    e_electron = protocol.constant("mean_electron_energy_mev")
    e_photon = protocol.constant("mean_photon_energy_mev")
    joule_per_mev = protocol.constant("joule_per_mev")
    energy = e_electron + phi * e_photon
    a0_bq = float(Activity(activity).bq)
    tau_s = retention.tiac_h * SECONDS_PER_HOUR
    per_kg = a0_bq * tau_s / float(weight)  # decays per kg
    at_phi = per_kg * float(energy) * float(joule_per_mev)
    electron_only = per_kg * float(e_electron) * float(joule_per_mev)
    s_value = protocol.site_or_none("whole_body_s_value_gy_per_bq_s_kg")
    dose = at_phi if s_value is None else per_kg * float(s_value)
    method = "energy deposition" if s_value is None else "site S-value"
    relative_se = None if retention.tiac_se_h is None else retention.tiac_se_h / retention.tiac_h
    inputs = _dose_inputs(Activity(activity), weight, retention, phi, phi_source, protocol)
    calculations = [
        _calc("Cumulated activity A0 x tau", f"{_g(float(Activity(activity).mbq) * retention.tiac_h)}", "MBq h",
              f"{Activity(activity).mbq} MBq x {_g(retention.tiac_h)} h", inputs[:2]),
        _calc("Whole-body dose, electrons only (phi = 0, lower bound)", _g(electron_only), "Gy",
              f"{_g(a0_bq)} Bq x {_g(tau_s)} s x {e_electron} MeV x {joule_per_mev} J/MeV / {weight} kg", inputs),
        _calc(f"Whole-body dose at phi = {phi}", _g(at_phi), "Gy",
              f"{_g(a0_bq)} Bq x {_g(tau_s)} s x ({e_electron} + {phi} x {e_photon}) MeV x {joule_per_mev} J/MeV "
              f"/ {weight} kg", inputs),
    ]
    notes = [f"phi = {phi} ({phi_source}); phi changes the dose by up to +/-25 % (clinical-reference §4.4)."]
    if s_value is not None:
        calculations.append(_calc("Whole-body dose by the site S-value", _g(dose), "Gy",
                                  f"{_g(a0_bq)} Bq x {_g(tau_s)} s x {s_value} Gy kg/(Bq s) / {weight} kg", inputs))
        notes.append("The site's whole-body S-value replaces the energy-deposition method "
                     f"({protocol.site_parameters['whole_body_s_value_gy_per_bq_s_kg'].source}).")
    return WholeBodyDose(
        administered=Activity(activity),
        weight_kg=weight,
        tiac_h=retention.tiac_h,
        cumulated_activity_mbq_h=float(Activity(activity).mbq) * retention.tiac_h,
        photon_absorbed_fraction=phi,
        photon_absorbed_fraction_source=phi_source,
        energy_per_decay_mev=energy,
        method=method,
        s_value_gy_kg_per_bq_s=s_value,
        dose_gy=dose,
        dose_se_gy=None if relative_se is None else dose * relative_se,
        electron_only_gy=electron_only,
        dose_at_phi_gy=at_phi,
        notes=tuple(notes),
        calculations=tuple(calculations),
    )


def _photon_fraction(protocol: ProtocolDefinition, entered: Decimal | None) -> tuple[Decimal, str]:
    if entered is None:
        parameter = protocol.site_parameters["photon_absorbed_fraction"]
        return protocol.site("photon_absorbed_fraction"), f"site parameter: {parameter.source}"
    phi = parse_decimal("photon_absorbed_fraction", entered, minimum=Decimal(0), maximum=Decimal(1))
    return phi, "entered for this calculation"


def _dose_inputs(
    activity: Activity, weight: Decimal, retention: RetentionFit, phi: Decimal, phi_source: str,
    protocol: ProtocolDefinition,
) -> tuple[InputUsed, ...]:
    return (
        InputUsed("A0 (administered activity)", f"{activity.mci} mCi = {activity.mbq} MBq", field="administered_mci"),
        InputUsed(f"tau (time-integrated activity coefficient, {retention.model})", _g(retention.tiac_h), "h"),
        InputUsed("m (body weight)", str(weight), "kg", field="weight_kg"),
        InputUsed(f"phi (photon absorbed fraction; {phi_source})", str(phi), field="photon_absorbed_fraction"),
        InputUsed("E_e (mean electron energy per decay)", str(protocol.constant("mean_electron_energy_mev")), "MeV"),
        InputUsed("E_gamma (mean photon energy per decay)", str(protocol.constant("mean_photon_energy_mev")), "MeV"),
        InputUsed("J/MeV", str(protocol.constant("joule_per_mev")), "J/MeV"),
    )


# --------------------------------------------------------------------------------------------------------
# Calculations shown by hand
# --------------------------------------------------------------------------------------------------------


def _retention_calculation(points: Sequence[RetentionPoint]) -> Calculation:
    first = points[0]
    values = ", ".join(f"{_g(float(p.retention), 4)} at {p.hours} h" for p in points)
    return _calc("Retention r = net / net(first)", values, "",
                 f"r(t) = (reading - background) / {first.net_mrem_per_h} mR/h",
                 tuple(InputUsed(f"net reading at {p.hours} h ({p.label})", str(p.net_mrem_per_h), "mR/h") for p in points))


def _fit_tiac_calculation(t0: float, curve: ModelFit, tiac: float) -> Calculation:
    terms = " + ".join(f"{_g(c.amplitude)}/{_g(c.decay_per_h)}" for c in curve.components)
    inputs = tuple(
        InputUsed(f"component {i + 1}", f"a = {_g(c.amplitude)} +/- {_g(c.amplitude_se)}, lambda = {_g(c.decay_per_h)} "
                  f"+/- {_g(c.decay_per_h_se)} /h, T = {_g(c.half_life_h)} +/- {_g(c.half_life_se_h)} h")
        for i, c in enumerate(curve.components)
    )
    return _calc("tau (fitted)", _g(tiac), "h", f"tau = t0 + sum a_i/lambda_i = {_g(t0)} + {terms}",
                 (InputUsed("t0 (first reading)", _g(t0), "h"), *inputs))


def _trapezoid_calculations(trapezoid: TrapezoidIntegral | None) -> tuple[Calculation, ...]:
    if trapezoid is None:
        return ()
    segments = " + ".join(_g(s) for s in trapezoid.segments)
    return (_calc(
        "tau (trapezoids + tail, clinical-reference §4.3 step 2)", _g(trapezoid.tiac_h), "h",
        f"t0 x 1 + trapezoids + r_last/lambda_last = {_g(trapezoid.start_h)} + ({segments}) + "
        f"{_g(trapezoid.last_retention)}/{_g(trapezoid.tail_decay_per_h)} = {_g(trapezoid.start_h)} + "
        f"{_g(trapezoid.trapezoid_h)} + {_g(trapezoid.tail_h)}",
        (InputUsed("lambda_last = ln(r[n-1]/r[n]) / (t[n]-t[n-1])", _g(trapezoid.tail_decay_per_h), "1/h"),),
    ),)


def _calc(name: str, value: str, unit: str, formula: str, inputs: Sequence[InputUsed] = ()) -> Calculation:
    return Calculation(name, value, unit, formula, tuple(inputs))


def _g(value: float | None, digits: int = 5) -> str:
    """A float shown to ``digits`` significant digits (display only); '-' for None."""
    return "-" if value is None else f"{value:.{digits}g}"


__all__ = [
    "BI",
    "COLUMNS",
    "MAX_HOURS",
    "MAX_MREM_PER_H",
    "MIN_READINGS",
    "MIN_READINGS_FOR_BI",
    "MIN_READINGS_FOR_FIT",
    "MONO",
    "TRAPEZOID",
    "Component",
    "ModelFit",
    "Reading",
    "RetentionFit",
    "RetentionPoint",
    "TrapezoidIntegral",
    "WholeBodyDose",
    "reading_from_row",
    "retention_fit",
    "retention_points",
    "trapezoid_tiac",
    "whole_body_dose",
]
