"""Release of the patient after 131I-MIBG therapy (clinical-reference §3; decisions.md "Release",
"Predicted release").

Federal criteria (10 CFR 35.75(a), NUREG-1556 Vol. 9 Table U.1, clinical-reference §3.2), any one suffices:

* retained activity <= 33 mCi (A0 x r at the last reading);
* measured dose rate at 1 m <= 7 mR/h;
* patient-specific dose to others <= 5 mSv: D(inf)[mrem] = 34.6 x Tp[d] x E x rate_1m[mR/h]
  (NCRP-37 Eq. 2 in dose-rate form, §3.3), evaluated with the physical half-life Tp = 8.04 d (the
  conservative value) and occupancy E = 0.25.

The dose to others is also reported with the measured effective half-life (much lower, but using it as the
basis needs a record under 10 CFR 35.2075(a)(3)); the release verdict here does not rely on it (§3.4: late
MIBG retention can be slower than the early effective half-life).

Site criterion: dose rate at 1 m <= the site limit (default 2 mR/h, UCSF practice, §3.1). Every limit is
"at or below" (Table U.1). Written instructions: required by 10 CFR 35.75(b) when the dose to others is likely
to exceed 1 mSv, and always issued for this therapy (decisions.md "Release"). "Now" means the time of the last
reading. The dose rate is the net reading (reading - background).

Numbers: entered values and what exact arithmetic makes of them (retained activity, dose to others with
Tp) are ``Decimal``, so a limit is compared exactly; predicted times come from the fitted curve and are
``float`` hours after the start of the infusion.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from mibg.core.dosimetry import RetentionFit, RetentionPoint
from mibg.core.results import Calculation, Finding, InputUsed, Severity
from mibg.core.serial import JSON, Reader, ShapeError, dec, envelope, num
from mibg.core.units import MBQ_PER_MCI, Activity, parse_activity_mci, parse_decimal
from mibg.protocol import ProtocolDefinition, load_protocol

#: 1 mrem = 10 uSv = 0.01 mSv (exact by definition; clinical-reference §2.3).
MSV_PER_MREM = Decimal("0.01")
#: 1 R ~ 1 rem for I-131 photons (NRC practice, clinical-reference §2.3): R -> mrem.
MREM_PER_R = Decimal(1000)
#: The NRC equations are evaluated at r = 100 cm (NCRP-37 Eq. 2, E = 0.25 at 1 m; clinical-reference §3.3).
DISTANCE_CM = Decimal(100)
#: Product choice (a check of units and geometry, not a protocol rule): the first net reading is expected
#: between these fractions of the unshielded point-source rate Gamma x A0 / (100 cm)^2 (0.22 mR/h per mCi,
#: clinical-reference §2.2). Self-shielding lowers it; a reading far outside suggests uSv/h or mSv/h entered as
#: mR/h, or the wrong distance.
PLAUSIBLE_FIRST_READING = (Decimal("0.1"), Decimal("1.5"))

FEDERAL = "federal"
SITE = "site"

_REF_TABLE = "10 CFR 35.75(a); NUREG-1556 Vol. 9 Table U.1; clinical-reference §3.2"
_REF_DOSE = "10 CFR 35.75(a); NCRP-37 Eq. 2 (dose-rate form); clinical-reference §3.3, §3.4"


@dataclass(frozen=True, slots=True)
class DoseToOthers:
    """Dose to the most exposed other person, to infinity (NCRP-37 as adopted by NRC, clinical-reference §3.3).

    ``mrem`` [mrem] (``msv`` [mSv]); ``half_life_days`` [d] used; ``occupancy`` E [1]; ``basis``: which
    half-life; ``calculation`` shows the formula with its numbers.
    """

    mrem: Decimal
    half_life_days: Decimal
    occupancy: Decimal
    basis: str
    calculation: Calculation

    @property
    def msv(self) -> Decimal:
        return self.mrem * MSV_PER_MREM

    def to_json(self) -> JSON:
        return {
            "mrem": dec(self.mrem),
            "msv": dec(self.msv),
            "half_life_days": dec(self.half_life_days),
            "occupancy": dec(self.occupancy),
            "basis": self.basis,
            "calculation": self.calculation.to_json(),
        }

    @classmethod
    def from_json(cls, r: Reader) -> DoseToOthers:
        dose = cls(r.decimal("mrem"), r.decimal("half_life_days"), r.decimal("occupancy"), r.text("basis"),
                   Calculation.from_json(r.child("calculation")))
        r.check("msv", dec(dose.msv))
        return dose


@dataclass(frozen=True, slots=True)
class ReleaseCriterion:
    """One release limit, judged at the last reading and predicted from the retention curve.

    ``scope``: ``federal`` or ``site``; ``value`` and ``limit`` in ``unit``; ``met``: value <= limit ("at or
    below"); ``first_met_h``: the first reading [h after the infusion start] at which it was met, or None;
    ``predicted_h``: when the fitted curve reaches the limit [h after the infusion start] (it can be before
    the last reading when the limit is already met); ``projected_from_last_two_h``: the same from the
    exponential through the last two readings (clinical-reference §4.4), None when they do not fall.
    """

    id: str
    title: str
    scope: str
    value: Decimal
    limit: Decimal
    unit: str
    met: bool
    first_met_h: Decimal | None
    predicted_h: float
    projected_from_last_two_h: float | None
    reference: str
    calculation: Calculation

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "title": self.title,
            "scope": self.scope,
            "value": dec(self.value),
            "limit": dec(self.limit),
            "unit": self.unit,
            "met": self.met,
            "first_met_h": dec(self.first_met_h),
            "predicted_h": num(self.predicted_h),
            "projected_from_last_two_h": num(self.projected_from_last_two_h),
            "reference": self.reference,
            "calculation": self.calculation.to_json(),
        }

    @classmethod
    def from_json(cls, r: Reader) -> ReleaseCriterion:
        value, limit = r.decimal("value"), r.decimal("limit")
        r.check("met", at_or_below(value, limit))
        return cls(r.text("id"), r.text("title"), r.text("scope"), value, limit, r.text("unit"), at_or_below(value, limit),
                   r.opt_decimal("first_met_h"), r.floating("predicted_h"), r.opt_floating("projected_from_last_two_h"),
                   r.text("reference"), Calculation.from_json(r.child("calculation")))


@dataclass(frozen=True, slots=True)
class ReleaseAssessment:
    """Whether and when the patient can be released (module docstring).

    ``as_of_h``: the last reading [h after the infusion start]; ``dose_rate_mrem_per_h``: its net value
    [mR/h at 1 m]; ``retained``: A0 x r_last (mCi, MBq); ``criteria``: federal ones then the site one;
    ``releasable_federal`` / ``releasable_site``: now; ``predicted_release_federal_h``: the earliest federal
    criterion's predicted time; ``predicted_release_site_h`` [h after the infusion start];
    ``dose_to_others``: with Tp at the last reading; ``dose_to_others_effective``: with the measured effective
    half-life; ``dose_to_others_at_site_limit``: if released at exactly the site limit.
    """

    administered: Activity
    as_of_h: Decimal
    dose_rate_mrem_per_h: Decimal
    retained: Activity
    site_limit_mrem_per_h: Decimal
    site_limit_source: str
    criteria: tuple[ReleaseCriterion, ...]
    dose_to_others: DoseToOthers
    dose_to_others_effective: DoseToOthers
    dose_to_others_at_site_limit: DoseToOthers
    instructions_required_by_rule: bool
    record_required: bool
    record_reasons: tuple[str, ...]
    findings: tuple[Finding, ...]
    calculations: tuple[Calculation, ...]

    #: decisions.md "Release": written instructions to the parent or guardian are always issued.
    instructions_issued: bool = True

    @property
    def federal_criteria(self) -> tuple[ReleaseCriterion, ...]:
        return tuple(c for c in self.criteria if c.scope == FEDERAL)

    @property
    def site_criterion(self) -> ReleaseCriterion:
        return next(c for c in self.criteria if c.scope == SITE)

    @property
    def releasable_federal(self) -> bool:
        """Any federal criterion met at the last reading (10 CFR 35.75(a))."""
        return any(c.met for c in self.federal_criteria)

    @property
    def releasable_site(self) -> bool:
        return self.site_criterion.met

    @property
    def releasable(self) -> bool:
        """Release needs both the federal and the site criterion."""
        return self.releasable_federal and self.releasable_site

    @property
    def predicted_release_federal_h(self) -> float:
        return min(c.predicted_h for c in self.federal_criteria)

    @property
    def predicted_release_site_h(self) -> float:
        return self.site_criterion.predicted_h

    def to_json(self) -> JSON:
        """The release assessment's one exact shape (mibg.core.serial): activities, readings, limits and doses to
        others as exact text; predicted times from the fitted curve as JSON numbers. Whether the patient is
        releasable now is written for readers and checked on reading against the criteria."""
        return {
            **envelope(RELEASE_SCHEMA, RELEASE_VERSION),
            "administered_mci": dec(self.administered.mci),
            "administered_mbq": dec(self.administered.mbq),
            "as_of_h": dec(self.as_of_h),
            "dose_rate_mrem_per_h": dec(self.dose_rate_mrem_per_h),
            "retained_mci": dec(self.retained.mci),
            "retained_mbq": dec(self.retained.mbq),
            "site_limit_mrem_per_h": dec(self.site_limit_mrem_per_h),
            "site_limit_source": self.site_limit_source,
            "releasable_now": {"federal": self.releasable_federal, "site": self.releasable_site},
            "predicted_release_federal_h": num(self.predicted_release_federal_h),
            "predicted_release_site_h": num(self.predicted_release_site_h),
            "criteria": [c.to_json() for c in self.criteria],
            "dose_to_others": self.dose_to_others.to_json(),
            "dose_to_others_effective": self.dose_to_others_effective.to_json(),
            "dose_to_others_at_site_limit": self.dose_to_others_at_site_limit.to_json(),
            "written_instructions": {
                "issued": self.instructions_issued,
                "required_by_10_cfr_35_75_b": self.instructions_required_by_rule,
                "reason": "always issued for this therapy (decisions.md 'Release'); 10 CFR 35.75(b) requires them "
                "when the dose to others is likely to exceed 1 mSv",
            },
            "release_record": {"required": self.record_required, "reasons": list(self.record_reasons)},
            "findings": [f.to_json() for f in self.findings],
            "calculations": [c.to_json() for c in self.calculations],
        }

    @classmethod
    def from_json(cls, data: object, path: str = "release") -> ReleaseAssessment:
        r = Reader.result(data, RELEASE_SCHEMA, RELEASE_VERSION, path)
        administered, retained = Activity(r.decimal("administered_mci")), Activity(r.decimal("retained_mci"))
        r.check("administered_mbq", dec(administered.mbq))
        r.check("retained_mbq", dec(retained.mbq))
        instructions, record = r.child("written_instructions"), r.child("release_record")
        assessment = cls(
            administered=administered, as_of_h=r.decimal("as_of_h"), dose_rate_mrem_per_h=r.decimal("dose_rate_mrem_per_h"),
            retained=retained, site_limit_mrem_per_h=r.decimal("site_limit_mrem_per_h"),
            site_limit_source=r.text("site_limit_source"), criteria=r.each("criteria", ReleaseCriterion.from_json),
            dose_to_others=DoseToOthers.from_json(r.child("dose_to_others")),
            dose_to_others_effective=DoseToOthers.from_json(r.child("dose_to_others_effective")),
            dose_to_others_at_site_limit=DoseToOthers.from_json(r.child("dose_to_others_at_site_limit")),
            instructions_required_by_rule=instructions.boolean("required_by_10_cfr_35_75_b"),
            record_required=record.boolean("required"), record_reasons=record.texts("reasons"),
            findings=r.each("findings", Finding.from_json), calculations=r.each("calculations", Calculation.from_json),
            instructions_issued=instructions.boolean("issued"))
        if not any(c.scope == SITE for c in assessment.criteria) or not assessment.federal_criteria:
            raise ShapeError(f"{path}.criteria", "a release assessment has federal criteria and the site criterion")
        now = r.child("releasable_now")
        now.check("federal", assessment.releasable_federal)
        now.check("site", assessment.releasable_site)
        return assessment


RELEASE_SCHEMA, RELEASE_VERSION = "mibg.release", 1


# --------------------------------------------------------------------------------------------------------
# Rules (exact, Decimal)
# --------------------------------------------------------------------------------------------------------


def at_or_below(value: Decimal, limit: Decimal) -> bool:
    """The release limits are "at or below" (NUREG-1556 Vol. 9 Table U.1): exactly at the limit passes."""
    return value <= limit


def dose_to_others_allows_release(dose_msv: Decimal, protocol: ProtocolDefinition | None = None) -> bool:
    """10 CFR 35.75(a): "not likely to exceed 5 mSv" -> a dose at or below 5 mSv allows release."""
    limit = (protocol or load_protocol()).site("federal_release_dose_to_others_msv")
    return at_or_below(dose_msv, limit)


def instructions_required_by_rule(dose_msv: Decimal, protocol: ProtocolDefinition | None = None) -> bool:
    """10 CFR 35.75(b): written instructions when the dose to others is "likely to exceed 1 mSv" (strictly above)."""
    return dose_msv > (protocol or load_protocol()).site("instructions_dose_to_others_msv")


def dose_to_others_from_dose_rate(
    dose_rate_mrem_per_h: Decimal,
    half_life_days: Decimal,
    protocol: ProtocolDefinition | None = None,
    basis: str = "physical half-life (NRC 8.04 d)",
) -> DoseToOthers:
    """D(inf)[mrem] = 34.6 x T[d] x E x rate_1m[mR/h] (clinical-reference §3.3, dose-rate form of NCRP-37 Eq. 2).

    ``dose_rate_mrem_per_h``: net dose rate at 1 m [mR/h]; ``half_life_days``: Tp (8.04 d) for the conservative
    value, or the effective half-life [d]; E from the site parameter ``caregiver_occupancy_factor`` (0.25).

    >>> dose_to_others_from_dose_rate(Decimal("3.5"), Decimal("8.04")).mrem
    Decimal('243.411000')
    """
    protocol = protocol or load_protocol()
    constant = protocol.constant("nrc_integration_constant")
    occupancy = protocol.site("caregiver_occupancy_factor")
    mrem = constant * half_life_days * occupancy * dose_rate_mrem_per_h
    calculation = Calculation(
        f"Dose to others ({basis})", f"{mrem:.4g}", "mrem",
        f"34.6 x T x E x rate = {constant} x {half_life_days} d x {occupancy} x {dose_rate_mrem_per_h} mR/h "
        f"= {mrem:.4g} mrem = {mrem * MSV_PER_MREM:.4g} mSv",
        (InputUsed("rate at 1 m (net)", str(dose_rate_mrem_per_h), "mR/h"),
         InputUsed(f"T ({basis})", str(half_life_days), "d"),
         InputUsed("E (occupancy at 1 m; NCRP-37 Eq. 2, 10 CFR 35.2075(a)(2))", str(occupancy))),
    )
    return DoseToOthers(mrem, half_life_days, occupancy, basis, calculation)


def dose_to_others_from_activity(activity: Activity, protocol: ProtocolDefinition | None = None) -> DoseToOthers:
    """D(inf) = 34.6 x Gamma x Q0 x Tp x E / r^2 (NCRP-37 Eq. 2, clinical-reference §3.3), Gamma = 2.2 R cm^2/(mCi h),
    Tp = 8.04 d, E = 0.25, r = 100 cm; R taken as rem (§2.3). ``activity``: Q0 at release [mCi].

    >>> round(dose_to_others_from_activity(Activity(Decimal(33))).mrem, 1)  # the 33 mCi table value, §3.4
    Decimal('504.9')
    """
    protocol = protocol or load_protocol()
    constant = protocol.constant("nrc_integration_constant")
    gamma = protocol.constant("gamma_constant_r_cm2_per_mci_h")
    tp = protocol.constant("nrc_half_life_days")
    occupancy = protocol.site("caregiver_occupancy_factor")
    mrem = constant * gamma * activity.mci * tp * occupancy / DISTANCE_CM**2 * MREM_PER_R
    calculation = Calculation(
        "Dose to others from activity (NCRP-37 Eq. 2)", f"{mrem:.4g}", "mrem",
        f"34.6 x Gamma x Q0 x Tp x E / r^2 = {constant} x {gamma} x {activity.mci} mCi x {tp} d x {occupancy} "
        f"/ {DISTANCE_CM}^2 cm^2 x 1000 mrem/R",
        (InputUsed("Q0", str(activity.mci), "mCi"),),
    )
    return DoseToOthers(mrem, tp, occupancy, "physical half-life (NRC 8.04 d), activity form", calculation)


def clock_time(infusion_start: datetime, hours: float | Decimal) -> datetime:
    """The date-time ``hours`` after ``infusion_start`` (timezone-aware), rounded UP to the minute so a predicted
    release is never shown earlier than computed."""
    exact = infusion_start + timedelta(hours=float(hours))
    floor = exact.replace(second=0, microsecond=0)
    return floor if floor == exact else floor + timedelta(minutes=1)


# --------------------------------------------------------------------------------------------------------
# The assessment
# --------------------------------------------------------------------------------------------------------


def release_assessment(
    administered: Activity,
    retention: RetentionFit,
    protocol: ProtocolDefinition | None = None,
    site_limit_mrem_per_h: Decimal | None = None,
) -> ReleaseAssessment:
    """Judge every release criterion at the last reading and predict when each is met (module docstring).

    ``administered``: A0 [mCi]; ``retention``: from :func:`mibg.core.dosimetry.retention_fit`;
    ``site_limit_mrem_per_h``: entered for this calculation, else the site parameter (2 mR/h).
    """
    protocol = protocol or load_protocol()
    activity = Activity(parse_activity_mci(administered.mci, "administered_mci"))
    site_limit, site_source = _site_limit(protocol, site_limit_mrem_per_h)
    last = retention.points[-1]
    tp = protocol.constant("nrc_half_life_days")
    t_eff_days = Decimal(f"{retention.remaining_half_life_h(float(last.hours)) / 24:.6g}")
    criteria = (
        _activity_criterion(activity, retention, protocol),
        _rate_criterion(retention, protocol.site("federal_release_dose_rate_mrem_per_h"), FEDERAL,
                        "federal_dose_rate", "Dose rate at 1 m at or below the federal limit", _REF_TABLE),
        _dose_to_others_criterion(retention, protocol),
        _rate_criterion(retention, site_limit, SITE, "site_dose_rate", "Dose rate at 1 m at or below the site limit",
                        f"site limit, {site_source}"),
    )
    dose_now = dose_to_others_from_dose_rate(last.net_mrem_per_h, tp, protocol)
    occupancy = protocol.site("caregiver_occupancy_factor")
    return ReleaseAssessment(
        administered=activity,
        as_of_h=last.hours,
        dose_rate_mrem_per_h=last.net_mrem_per_h,
        retained=Activity(activity.mci * last.retention),
        site_limit_mrem_per_h=site_limit,
        site_limit_source=site_source,
        criteria=criteria,
        dose_to_others=dose_now,
        dose_to_others_effective=dose_to_others_from_dose_rate(
            last.net_mrem_per_h, t_eff_days, protocol,
            basis=f"measured effective half-life {t_eff_days} d from the {retention.model} curve; record under "
            "10 CFR 35.2075(a)(3) if used"),
        dose_to_others_at_site_limit=dose_to_others_from_dose_rate(site_limit, tp, protocol,
                                                                   basis="physical half-life, at the site limit"),
        instructions_required_by_rule=instructions_required_by_rule(dose_now.msv, protocol),
        record_required=bool(_record_reasons(activity, occupancy, protocol)),
        record_reasons=_record_reasons(activity, occupancy, protocol),
        findings=_findings(activity, retention, criteria, site_limit, protocol),
        calculations=tuple(c.calculation for c in criteria),
    )


@dataclass(frozen=True, slots=True)
class FamilyPrecautions:
    """How long the written instructions to the family last, from the dose rate at 1 m at release."""

    dose_rate_mrem_per_h: Decimal
    threshold_msv: Decimal
    rate_at_threshold_mrem_per_h: Decimal
    exact_days: float
    days: int
    minimum_days: int
    formula: str


def family_precautions(dose_rate_mrem_per_h: Decimal, protocol: ProtocolDefinition | None = None) -> FamilyPrecautions:
    """How long the written instructions last, computed from the dose rate at 1 m (10 CFR 35.75(b)).

    Rule (conservative, the NRC's default model, clinical-reference §3.3): after release the child keeps all the
    activity measured at the last reading and it only decays physically (Tp = 8.04 d). The dose another person
    could still receive from day t on is then D(t) = 34.6 x Tp x E x rate(t) [mrem], E = 0.25
    (``caregiver_occupancy_factor``). The precautions last until D(t) is at or below the instructions threshold
    (1 mSv, 10 CFR 35.75(b)): rate(t) <= threshold / (34.6 x Tp x E), reached after t = Tp x log2(rate / that
    rate) days, rounded up to whole days, at least ``precaution_minimum_days`` (1, a product choice for the
    site's radiation safety officer to confirm).
    """
    p = protocol or load_protocol()
    constant = p.constant("nrc_integration_constant")
    tp = p.constant("nrc_half_life_days")
    occupancy = p.site("caregiver_occupancy_factor")
    threshold_msv = p.site("instructions_dose_to_others_msv")
    minimum_days = int(p.site("precaution_minimum_days"))
    rate = dose_rate_mrem_per_h
    rate_at_threshold = threshold_msv / MSV_PER_MREM / (constant * tp * occupancy)
    exact_days = float(tp) * math.log2(float(rate / rate_at_threshold)) if rate > rate_at_threshold else 0.0
    days = max(minimum_days, math.ceil(exact_days))
    shown = format(rate.normalize(), "f")
    formula = (f"rate at which the dose to others from then on is {threshold_msv} mSv = {threshold_msv} mSv / "
               f"({constant} x {tp} d x {occupancy}) = {rate_at_threshold:.3f} mR/h; t = {tp} d x log2({shown} / "
               f"{rate_at_threshold:.3f}) = {exact_days:.2f} d -> {days} day(s) (rounded up, at least {minimum_days})")
    return FamilyPrecautions(rate, threshold_msv, rate_at_threshold, exact_days, days, minimum_days, formula)


def _site_limit(protocol: ProtocolDefinition, entered: Decimal | None) -> tuple[Decimal, str]:
    if entered is None:
        parameter = protocol.site_parameters["site_release_limit_mrem_per_h"]
        return protocol.site("site_release_limit_mrem_per_h"), f"site parameter: {parameter.source}"
    limit = parse_decimal("site_limit_mrem_per_h", entered, minimum=Decimal(0), allow_zero=False, unit="mR/h")
    return limit, "entered for this calculation"


def _first_met(
    points: tuple[RetentionPoint, ...], value_of: Callable[[RetentionPoint], Decimal], limit: Decimal
) -> Decimal | None:
    return next((p.hours for p in points if at_or_below(value_of(p), limit)), None)


def _projection(retention: RetentionFit, fraction: Decimal) -> float | None:
    """t_last + ln(r_last / fraction) / lambda_last: the exponential through the last two readings (§4.4)."""
    tail = retention.trapezoid
    if tail is None:
        return None
    return tail.last_hours + math.log(tail.last_retention / float(fraction)) / tail.tail_decay_per_h


def _rate_criterion(
    retention: RetentionFit, limit: Decimal, scope: str, criterion_id: str, title: str, reference: str
) -> ReleaseCriterion:
    points = retention.points
    last, first = points[-1], points[0]
    fraction = limit / first.net_mrem_per_h
    predicted = retention.hours_to_reach(float(fraction))
    calculation = Calculation(
        title, str(last.net_mrem_per_h), "mR/h",
        f"net reading at {last.hours} h = {last.net_mrem_per_h} mR/h {'<=' if last.net_mrem_per_h <= limit else '>'} "
        f"{limit} mR/h; the curve reaches {limit} mR/h (r = {limit}/{first.net_mrem_per_h} = {float(fraction):.4g}) "
        f"at {predicted:.1f} h",
        (InputUsed(f"limit ({reference})", str(limit), "mR/h"),),
    )
    return ReleaseCriterion(
        criterion_id, title, scope, last.net_mrem_per_h, limit, "mR/h", at_or_below(last.net_mrem_per_h, limit),
        _first_met(points, lambda p: p.net_mrem_per_h, limit), predicted, _projection(retention, fraction),
        reference, calculation,
    )


def _activity_criterion(activity: Activity, retention: RetentionFit, protocol: ProtocolDefinition) -> ReleaseCriterion:
    limit = protocol.site("federal_release_activity_mci")
    last = retention.points[-1]
    retained = activity.mci * last.retention
    fraction = limit / activity.mci
    predicted = retention.hours_to_reach(float(fraction))
    calculation = Calculation(
        "Retained activity A0 x r(last)", f"{retained:.4g}", "mCi",
        f"{activity.mci} mCi x {float(last.retention):.4g} = {retained:.4g} mCi ({retained * MBQ_PER_MCI:.4g} MBq) "
        f"{'<=' if retained <= limit else '>'} {limit} mCi; the curve reaches r = {limit}/{activity.mci} at "
        f"{predicted:.1f} h",
        (InputUsed("A0", str(activity.mci), "mCi", field="administered_mci"),
         InputUsed(f"limit ({_REF_TABLE})", str(limit), "mCi")),
    )
    return ReleaseCriterion(
        "federal_activity", "Retained activity at or below the federal limit", FEDERAL, retained, limit, "mCi",
        at_or_below(retained, limit), _first_met(retention.points, lambda p: activity.mci * p.retention, limit),
        predicted, _projection(retention, fraction), _REF_TABLE, calculation,
    )


def _dose_to_others_criterion(retention: RetentionFit, protocol: ProtocolDefinition) -> ReleaseCriterion:
    tp = protocol.constant("nrc_half_life_days")
    limit_msv = protocol.site("federal_release_dose_to_others_msv")
    last, first = retention.points[-1], retention.points[0]
    dose = dose_to_others_from_dose_rate(last.net_mrem_per_h, tp, protocol)
    per_rate = dose_to_others_from_dose_rate(Decimal(1), tp, protocol).msv  # mSv per mR/h
    fraction = limit_msv / per_rate / first.net_mrem_per_h
    predicted = retention.hours_to_reach(float(fraction))
    calculation = Calculation(
        "Patient-specific dose to others (physical half-life)", f"{dose.msv:.4g}", "mSv",
        f"{dose.calculation.formula} "
        f"{'<=' if dose.msv <= limit_msv else '>'} {limit_msv} mSv; {limit_msv} mSv is reached at a rate of "
        f"{float(limit_msv / per_rate):.4g} mR/h, at {predicted:.1f} h",
        dose.calculation.inputs,
    )
    return ReleaseCriterion(
        "federal_dose_to_others", f"Patient-specific dose to others at or below {limit_msv} mSv", FEDERAL, dose.msv,
        limit_msv,
        "mSv", dose_to_others_allows_release(dose.msv, protocol),
        _first_met(retention.points, lambda p: per_rate * p.net_mrem_per_h, limit_msv), predicted,
        _projection(retention, fraction), _REF_DOSE, calculation,
    )


def _record_reasons(activity: Activity, occupancy: Decimal, protocol: ProtocolDefinition) -> tuple[str, ...]:
    """10 CFR 35.2075(a): a record of the basis for release is kept when the dose was calculated with the retained
    activity (or the measured dose rate, RG 8.39 Table 4), an occupancy below 0.25, or the effective half-life."""
    reasons = []
    federal_activity = protocol.site("federal_release_activity_mci")
    if activity.mci > federal_activity:
        reasons.append(f"10 CFR 35.2075(a)(1): the administered activity is above {federal_activity} mCi, so release "
                       "rests on the retained activity or the measured dose rate")
    record_below = protocol.constant("record_occupancy_factor_below")
    if occupancy < record_below:
        reasons.append(f"10 CFR 35.2075(a)(2): occupancy factor {occupancy} is below {record_below}")
    return tuple(reasons)


def _findings(
    activity: Activity,
    retention: RetentionFit,
    criteria: tuple[ReleaseCriterion, ...],
    site_limit: Decimal,
    protocol: ProtocolDefinition,
) -> tuple[Finding, ...]:
    findings = [*retention.findings, *_plausibility(activity, retention.points[0], protocol)]
    federal_rate = protocol.site("federal_release_dose_rate_mrem_per_h")
    if site_limit > federal_rate:
        findings.append(Finding("SITE_LIMIT", Severity.WARN, f"The site limit {site_limit} mR/h is above the federal "
                                f"dose-rate limit {federal_rate} mR/h; the federal criteria still apply.",
                                reference="clinical-reference §3.1-§3.2"))
    as_of = float(retention.points[-1].hours)
    for c in criteria:
        if not c.met and c.predicted_h <= as_of:
            projection = "" if c.projected_from_last_two_h is None else (
                f"; the exponential through the last two readings reaches it at {c.projected_from_last_two_h:.1f} h")
            findings.append(Finding("PREDICTION", Severity.WARN, f"{c.title}: the fitted curve reaches the limit at "
                                    f"{c.predicted_h:.1f} h, but the reading at {as_of:g} h is still above it. The fit "
                                    f"underestimates the latest readings{projection}. Measure again.",
                                    reference="clinical-reference §3.4, §4.4"))
    findings.append(Finding("MEASURE", Severity.INFO, "A predicted time plans the next reading; release rests on a "
                            "measured reading at or below the limit.", reference="decisions.md 'Predicted release'"))
    return tuple(findings)


def _plausibility(activity: Activity, first: RetentionPoint, protocol: ProtocolDefinition) -> list[Finding]:
    gamma = protocol.constant("gamma_constant_r_cm2_per_mci_h")
    expected = gamma * activity.mci / DISTANCE_CM**2 * MREM_PER_R  # mR/h at 1 m, no shielding (§2.2)
    ratio = first.net_mrem_per_h / expected
    low, high = PLAUSIBLE_FIRST_READING
    if low <= ratio <= high:
        return []
    return [Finding("UNITS", Severity.WARN,
                    f"The first net reading ({first.net_mrem_per_h} mR/h) is {float(ratio):.2g} x the unshielded "
                    f"rate of {activity.mci} mCi at 1 m ({float(expected):.3g} mR/h, 0.22 mR/h per mCi). Check the unit "
                    "(mR/h, not uSv/h or mSv/h), the distance (1 m) and the administered activity before relying on "
                    "the dose-rate criteria.", reference="clinical-reference §2.2, §2.3")]


__all__ = [
    "FEDERAL",
    "MSV_PER_MREM",
    "SITE",
    "DoseToOthers",
    "FamilyPrecautions",
    "ReleaseAssessment",
    "ReleaseCriterion",
    "at_or_below",
    "clock_time",
    "dose_to_others_allows_release",
    "dose_to_others_from_activity",
    "dose_to_others_from_dose_rate",
    "family_precautions",
    "instructions_required_by_rule",
    "release_assessment",
]
