"""Follow-up plots: count recovery of one course and the programme's dose-toxicity scatter plots.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global state), and written either as PNG
(for PDFs and download) or as SVG to put inline in a page. The pages are served with a Content-Security-Policy
that forbids inline styles, and matplotlib writes its SVG with ``style`` attributes and a ``<style>`` element;
:func:`inline_svg` turns those into SVG presentation attributes (same drawing, nothing for the policy to
block) and gives every id a prefix so several plots can share a page. matplotlib is imported only when a plot
is drawn.
"""

from __future__ import annotations

import io
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_stubs_ext import StrOrPromise

from mibg.core.recovery import CourseRecovery, SeriesSummary
from mibg.core.times import site_time

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)

#: CTCAE grade band colours (grade 0 is left white).
GRADE_COLOURS = {1: "#fff3b0", 2: "#ffd59e", 3: "#f9a48f", 4: "#e0607e"}
SERIES_COLOUR = "#16324f"
TRANSFUSION_STYLES = {"platelets": ("#7b1fa2", "--"), "red_cells": ("#b3261e", "-."), "granulocytes": ("#1c7a3e", ":")}
#: Which series each transfusion product is marked on.
TRANSFUSION_SERIES = {"platelets": "platelets", "red_cells": "hemoglobin", "granulocytes": "anc"}
SERIES_LABELS = {"anc": gettext_lazy("ANC (10^9/L)"), "platelets": gettext_lazy("Platelets (10^9/L)"),
                 "hemoglobin": gettext_lazy("Haemoglobin (g/dL)")}

_counter = itertools.count(1)


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def png(figure: Any) -> bytes:
    """PNG bytes (150 dpi) without a timestamp or software tag: the same data gives the same bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, metadata={"Software": None})
    return buffer.getvalue()


def svg(figure: Any) -> str:
    """The SVG document as matplotlib writes it (without the date), with its text as text (readable, searchable,
    and read out by screen readers), for download."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "mibg", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def inline_svg(figure: Any, title: StrOrPromise) -> str:
    """An ``<svg>`` element to put in a page under a strict CSP: presentation attributes instead of styles,
    ids prefixed, width 100 % (the height follows the view box), and a ``<title>`` for screen readers."""
    root = ET.fromstring(svg(figure))
    for metadata in root.findall(f"{{{SVG}}}metadata"):
        root.remove(metadata)
    for defs in root.iter(f"{{{SVG}}}defs"):
        for style in defs.findall(f"{{{SVG}}}style"):
            for prop, value in _declarations(re.sub(r"^\s*\*\s*\{|\}\s*$", "", style.text or "")):
                root.set(prop, value)  # the "*" rule, inherited from the root
            defs.remove(style)
    prefix = f"fu{next(_counter)}-"
    ids = {}
    for element in root.iter():
        inline = element.attrib.pop("style", None)
        if inline:
            for prop, value in _declarations(inline):
                element.set(prop, value)
        if "id" in element.attrib:
            ids[element.attrib["id"]] = prefix + element.attrib["id"]
            element.set("id", ids[element.attrib["id"]])

    def relink(value: str) -> str:
        value = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{ids.get(m.group(1), m.group(1))})", value)
        return f"#{ids.get(value[1:], value[1:])}" if value.startswith("#") else value

    for element in root.iter():
        for name, value in list(element.attrib.items()):
            if "#" in value:
                element.set(name, relink(value))
    root.set("width", "100%")
    root.attrib.pop("height", None)
    root.set("role", "img")
    heading = ET.Element(f"{{{SVG}}}title")
    heading.text = str(title)
    root.insert(0, heading)
    return ET.tostring(root, encoding="unicode")


def _declarations(css: str) -> list[tuple[str, str]]:
    out = []
    for part in css.split(";"):
        if ":" in part:
            prop, value = part.split(":", 1)
            out.append((prop.strip(), value.strip()))
    return out


# ---- count recovery of one course -----------------------------------------------------------------------


def _x(infusion_at: datetime, moment: datetime) -> float:
    """Days on the plot's axis: day N runs from N to N + 1 (calendar days in the infusion's UTC offset, as
    mibg.core.recovery counts them), so a value of day 12 is drawn between 12 and 13."""
    local = moment.astimezone(infusion_at.tzinfo)
    midnight = datetime.combine(infusion_at.date(), datetime.min.time(), infusion_at.tzinfo)
    return (local - midnight) / timedelta(days=1)


def recovery_figure(result: CourseRecovery) -> Any:
    """ANC, platelets and haemoglobin against days after the infusion, with the CTCAE v5.0 grade bands shaded,
    the grade 4 and recovery thresholds, the nadir, the transfusions and the recovery day."""
    series = (result.anc, result.platelets, result.hemoglobin)
    figure = _figure(10.0, 9.0)
    axes_list = figure.subplots(3, 1, sharex=True)
    infusion_x = _x(result.infusion_at, result.infusion_at)
    all_x = [_x(result.infusion_at, p.at) for s in series for p in s.points]
    all_x += [_x(result.infusion_at, t.at) for t in result.transfusions]
    left = min([infusion_x - 1, *all_x]) - 0.5
    right = max([infusion_x + 7, *all_x]) + 1
    for axes, summary in zip(axes_list, series, strict=True):
        _draw_series(axes, summary, result, left, right)
    axes_list[-1].set_xlabel(_("days after the infusion (day 0 = infusion day; calendar days in the infusion's time "
                               "zone)"),
                             fontsize=9.5)
    axes_list[-1].set_xlim(left, right)
    figure.suptitle(_("Count recovery after the infusion of %(at)s")
                    % {"at": site_time(result.infusion_at)}, fontsize=12)
    figure.tight_layout()
    return figure


def _draw_series(axes: Any, summary: SeriesSummary, result: CourseRecovery, left: float, right: float) -> None:
    infusion_at = result.infusion_at
    xs = [_x(infusion_at, p.at) for p in summary.points]
    ys = [float(p.value) for p in summary.points]
    thresholds = [float(v) for v in (summary.grade4_below, summary.recovery_threshold) if v is not None]
    edges = [float(v) for b in summary.bands for v in (b.lower, b.upper) if v is not None]
    top = max([*ys, *thresholds, *edges[:2], 1.0]) * 1.15
    for band in summary.bands if summary.points else ():  # an empty series gets no bands: nothing to grade
        if band.grade == 0:
            continue
        lower = 0.0 if band.lower is None else float(band.lower)
        upper = top if band.upper is None else float(band.upper)
        if upper <= lower:
            continue  # an empty band (e.g. grade 1 when the LLN is the grade 1 boundary)
        axes.axhspan(lower, min(upper, top), color=GRADE_COLOURS[band.grade], alpha=0.75, linewidth=0,
                     label=_("CTCAE grade %(grade)s") % {"grade": band.grade})
    if summary.grade4_below is not None:
        axes.axhline(float(summary.grade4_below), color="#7a1020", linewidth=0.9, linestyle="--",
                     label=_("grade 4 below %(n)s") % {"n": _n(summary.grade4_below)})
    if summary.recovery_threshold is not None:
        axes.axhline(float(summary.recovery_threshold), color="#1c7a3e", linewidth=0.9, linestyle=":",
                     label=_("recovery above %(n)s") % {"n": _n(summary.recovery_threshold)})
    axes.axvline(_x(infusion_at, infusion_at), color="#333333", linewidth=1.2, label=_("131I-MIBG infusion"))
    if xs:
        axes.plot(xs, ys, "-", color=SERIES_COLOUR, linewidth=1.4, zorder=3)
        supported = [p.transfusion_supported for p in summary.points]
        axes.plot([x for x, s in zip(xs, supported, strict=True) if not s],
                  [y for y, s in zip(ys, supported, strict=True) if not s], "o", color=SERIES_COLOUR, markersize=4, zorder=4)
        if any(supported):
            axes.plot([x for x, s in zip(xs, supported, strict=True) if s], [y for y, s in zip(ys, supported, strict=True) if s],
                      "o", markerfacecolor="white", markeredgecolor=SERIES_COLOUR, markersize=5, zorder=4,
                      label=_("within 7 days of a platelet transfusion"))
    else:
        axes.text(0.5, 0.5, _("no values"), transform=axes.transAxes, ha="center", va="center", color="#5b6475")
    if summary.nadir is not None and summary.nadir_at is not None:
        nx = _x(infusion_at, summary.nadir_at)
        axes.plot([nx], [float(summary.nadir)], "v", color="#b3261e", markersize=8, zorder=5)
        # The label reads away from the plot's right edge, so it never runs into the legend beside the plot.
        low, high = axes.get_xlim()
        right_half = nx > (low + high) / 2
        axes.annotate(_("nadir %(nadir)s on day %(nadir_day)s")
                      % {"nadir": summary.nadir, "nadir_day": summary.nadir_day}, (nx, float(summary.nadir)),
                      xytext=(-6 if right_half else 6, 10), textcoords="offset points", fontsize=9, color="#b3261e",
                      ha="right" if right_half else "left",
                      bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
                      zorder=3.5)  # under the data points
    for mark in result.transfusions:
        if TRANSFUSION_SERIES.get(mark.product) != summary.test:
            continue
        colour, style = TRANSFUSION_STYLES.get(mark.product, ("#444444", "--"))
        axes.axvline(_x(infusion_at, mark.at), color=colour, linestyle=style, linewidth=1.1,
                     label=_("%(product)s transfusion") % {"product": mark.product.replace("_", " ")})
    recovery = result.recovery
    if recovery.day is not None and summary.test in ("anc", "platelets"):
        axes.axvline(recovery.day, color="#1c7a3e", linewidth=1.6, alpha=0.8,
                     label=_("recovery day %(day)s (%(status)s)")
                           % {"day": recovery.day, "status": recovery.status})
    axes.set_ylim(0, top)
    axes.set_xlim(left, right)
    axes.set_ylabel(SERIES_LABELS[summary.test], fontsize=9.5)
    axes.set_title(_series_title(summary), fontsize=10, loc="left")
    axes.tick_params(labelsize=9)
    axes.grid(True, axis="x", linewidth=0.3, color="#999999")
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    axes.legend(unique.values(), unique.keys(), fontsize=8.5, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                borderaxespad=0, frameon=False)
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 7, 10]))


def _n(value: Decimal | None) -> str:
    """A threshold as written, without trailing zeros: 25.0 -> 25."""
    return "" if value is None else format(value.normalize(), "f")


def _series_title(summary: SeriesSummary) -> str:
    name = str(SERIES_LABELS[summary.test]).split(" (")[0]
    if summary.nadir is None:
        return _("%(name)s: no value after the infusion") % {"name": name}
    values = {"name": name, "nadir": summary.nadir, "unit": summary.unit, "day": summary.nadir_day,
              "days": summary.days_below_grade4, "below": _n(summary.grade4_below)}
    if summary.days_below_grade4 is not None:
        return ngettext("%(name)s: nadir %(nadir)s %(unit)s on day %(day)s; %(days)s day below %(below)s (grade 4)",
                        "%(name)s: nadir %(nadir)s %(unit)s on day %(day)s; %(days)s days below %(below)s (grade 4)",
                        summary.days_below_grade4) % values
    return _("%(name)s: nadir %(nadir)s %(unit)s on day %(day)s") % values


# ---- the programme ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    mci_per_kg: Decimal
    value: Decimal | None
    label: str


def programme_figure(panels: Sequence[tuple[str, str, Sequence[Point]]]) -> Any:
    """One scatter plot per panel (title, y label, points): administered mCi/kg on x. Points without a value
    are counted in the title, not drawn."""
    figure = _figure(4.0 * len(panels), 3.6)
    axes_list = figure.subplots(1, len(panels), squeeze=False)[0]
    for axes, (title, ylabel, points) in zip(axes_list, panels, strict=True):
        drawn = [p for p in points if p.value is not None]
        missing = len(points) - len(drawn)
        axes.scatter([float(p.mci_per_kg) for p in drawn], [float(p.value) for p in drawn],  # type: ignore[arg-type]
                     color=SERIES_COLOUR, s=22, zorder=3)
        for p in drawn:
            axes.annotate(p.label, (float(p.mci_per_kg), float(p.value)), xytext=(3, 3),  # type: ignore[arg-type]
                          textcoords="offset points", fontsize=6, color="#5b6475")
        counted = (ngettext("%(title)s (%(n)s course; %(missing)s without a value)",
                            "%(title)s (%(n)s courses; %(missing)s without a value)", len(drawn)) if missing else
                   ngettext("%(title)s (%(n)s course)", "%(title)s (%(n)s courses)", len(drawn)))
        axes.set_title(counted % {"title": title, "n": len(drawn), "missing": missing}, fontsize=8.5)
        axes.set_xlabel(_("administered 131I-MIBG (mCi/kg)"), fontsize=8)
        axes.set_ylabel(ylabel, fontsize=8)
        axes.tick_params(labelsize=7.5)
        axes.grid(True, linewidth=0.3)
        if not drawn:
            axes.text(0.5, 0.5, _("no data yet"), transform=axes.transAxes, ha="center", va="center", color="#5b6475")
    figure.tight_layout()
    return figure
