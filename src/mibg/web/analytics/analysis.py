"""The programme analytics (issue 13 §6) from the programme rows (mibg.web.followup.programme: every administered
course, computed from the stored records each time): whole-body dose against the platelet and ANC nadirs and the
days to count recovery, with Spearman's rank correlation and its confidence interval, and the share of courses that
needed stem-cell rescue in each whole-body-dose band (mibg.core.analytics; band edges from the protocol definition).

A course enters an analysis only when it has both of that analysis's values; the others are counted, never
filled in. "Needed stem-cell rescue" means a stem-cell infusion is recorded for the course.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from mibg.core.analytics import BandShare, Correlation, rescue_by_band, spearman
from mibg.protocol import load_protocol


@dataclass(frozen=True)
class Analysis:
    key: str
    title: StrOrPromise
    value_key: str
    value_header: StrOrPromise  # the CSV header of the value, with its unit


CORRELATIONS = (
    Analysis("platelet-nadir", gettext_lazy("Whole-body dose against the platelet nadir"), "platelet_nadir",
             gettext_lazy("Platelet nadir (10^9/L)")),
    Analysis("anc-nadir", gettext_lazy("Whole-body dose against the ANC nadir"), "anc_nadir",
             gettext_lazy("ANC nadir (10^9/L)")),
    Analysis("recovery-days", gettext_lazy("Whole-body dose against the days to count recovery"), "recovery_day",
             gettext_lazy("Count recovery day (days after infusion)")),
)
RESCUE_KEY = "rescue-by-band"
KEYS = (*(a.key for a in CORRELATIONS), RESCUE_KEY)
DOSE_HEADER = gettext_lazy("Whole-body dose (Gy)")


def label(row: dict[str, Any]) -> str:
    return f"{row['mrn']} #{row['course']}"


@dataclass(frozen=True)
class CorrelationResult:
    analysis: Analysis
    points: list[tuple[str, Decimal, Decimal]]  # (course, whole-body dose, value)
    left_out: int  # administered courses without one of the two values
    correlation: Correlation


def correlations(rows: list[dict[str, Any]]) -> list[CorrelationResult]:
    out = []
    for analysis in CORRELATIONS:
        points = [(label(r), r["whole_body_gy"], Decimal(r[analysis.value_key])) for r in rows
                  if r.get("whole_body_gy") is not None and r.get(analysis.value_key) is not None]
        out.append(CorrelationResult(analysis, points, len(rows) - len(points),
                                     spearman([(dose, value) for _, dose, value in points])))
    return out


@dataclass(frozen=True)
class RescueResult:
    bands: list[BandShare]
    courses: list[tuple[str, Decimal, bool]]
    left_out: int
    edges: tuple[Decimal, ...]
    source: str


def rescue(rows: list[dict[str, Any]]) -> RescueResult:
    protocol = load_protocol()
    courses = [(label(r), r["whole_body_gy"], r.get("stem_cell_rescue") is not None) for r in rows
               if r.get("whole_body_gy") is not None]
    bands = rescue_by_band([(dose, rescued) for _, dose, rescued in courses], protocol.whole_body_dose_band_edges_gy)
    return RescueResult(bands, courses, len(rows) - len(courses), protocol.whole_body_dose_band_edges_gy,
                        protocol.whole_body_dose_bands_source)


def csv_rows(key: str, rows: list[dict[str, Any]]) -> list[list[str]]:
    """The numbers behind one plot, as CSV rows (header first)."""
    if key == RESCUE_KEY:
        result = rescue(rows)
        table = [[_("Whole-body-dose band (Gy)"), _("Lower edge (Gy, included)"), _("Upper edge (Gy, excluded)"),
                  _("Courses"), _("Courses with stem-cell rescue"), _("Share (0-1)"), _("95 % CI low (Wilson)"),
                  _("95 % CI high (Wilson)")]]
        for b in result.bands:
            table.append([b.label, _s(b.low), _s(b.high), str(b.courses), str(b.rescued), _s(b.share), _s(b.ci_low),
                          _s(b.ci_high)])
        return table
    found = next(r for r in correlations(rows) if r.analysis.key == key)
    table = [[_("Course (MRN #number)"), str(DOSE_HEADER), str(found.analysis.value_header)]]
    table += [[_safe(course), format(dose, "f"), format(value, "f")] for course, dose, value in found.points]
    c = found.correlation
    table.append([_("Spearman rho (n = %(n)s)") % {"n": c.n}, _s(c.rho),
                  _("95 %% CI %(low)s to %(high)s") % {"low": _s(c.ci_low), "high": _s(c.ci_high)}
                  if c.ci_low is not None else c.note])
    return table


def _s(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text  # no spreadsheet formula (CSV injection)
