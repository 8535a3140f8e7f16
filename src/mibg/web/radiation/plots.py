"""The exposure-rate plot of a course: readings at 1 m, the fitted retention curve, both release limits and the
predicted release times (decisions.md "Retention fit", "Predicted release"). One figure, as SVG for the page and
PNG for PDFs (mibg.web.plots)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from mibg.core.dosimetry import TRAPEZOID
from mibg.web.plots import figure_png, figure_svg, new_figure
from mibg.web.radiation.services import Dosimetry
from mibg.web.templatetags.mibg import num, when

READING = "#1f4e79"
CURVE = "#5b6475"
SITE = "#1c7a3e"
FEDERAL = "#b36b00"


def _g(value: float) -> str:
    return f"{value:.3g}"


def describe(d: Dosimetry) -> str:
    """The plot in words (the SVG's description, and the image's alternative text)."""
    rows = d.rows
    if not rows or d.start is None:
        return _("No exposure-rate reading yet.")
    readings = "; ".join(f"{float(r['hours']):.1f} h {num(r['net'])} mR/h" for r in rows)
    text = _("Net exposure rate at 1 m, hours after the start of the infusion: %(readings)s.") % {"readings": readings}
    if d.retention is not None and d.release is not None:
        text += " " + _("Fitted %(model)s curve, effective half-life %(half_life)s h. Site limit %(site)s mR/h reached "
                        "at %(site_h)s h (%(site_at)s); federal limit %(federal)s mR/h at %(federal_h)s h "
                        "(%(federal_at)s).") % {
            "model": d.retention.model, "half_life": _g(d.retention.effective_half_life_h), "site": d.site_limit,
            "site_h": f"{d.release.predicted_release_site_h:.1f}", "site_at": when(d.predicted_site_at),
            "federal": d.federal_limit, "federal_h": f"{d.release.predicted_release_federal_h:.1f}",
            "federal_at": when(d.predicted_federal_at)}
    elif d.problem:
        text += " " + _("No fit: %(problem)s") % {"problem": d.problem}
    return text


def readings_figure(d: Dosimetry) -> Any:
    figure = new_figure(7.2, 3.8)
    axes = figure.add_subplot(1, 1, 1)
    axes.set_xlabel(_("hours after the start of the infusion"), fontsize=9)
    axes.set_ylabel(_("exposure rate at 1 m (mR/h)"), fontsize=9)
    axes.tick_params(labelsize=8)
    rows = d.rows
    if not rows or d.start is None:
        axes.text(0.5, 0.5, _("No reading yet"), transform=axes.transAxes, ha="center", va="center", fontsize=11,
                  color=CURVE)
        axes.set_yticks([])
        axes.set_xticks([])
        return figure
    hours = [float(r["hours"]) for r in rows]
    nets = [float(r["net"]) for r in rows]
    site, federal = float(d.site_limit), float(d.federal_limit)
    end = max(hours)
    if d.release is not None:
        end = max(end, d.release.predicted_release_site_h, d.release.predicted_release_federal_h)
    end = end * 1.08 + 4
    if d.retention is not None:
        t0 = d.retention.first_hours
        first = float(d.retention.points[0].net_mrem_per_h)
        steps = 240
        xs = [t0 + (end - t0) * i / steps for i in range(steps + 1)]
        half_life = _g(d.retention.effective_half_life_h)
        label = (_("trapezoids + exponential tail (T %(half_life)s h)") % {"half_life": half_life}
                 if d.retention.model == TRAPEZOID
                 else _("fit (%(model)s, T_eff %(half_life)s h)") % {"model": d.retention.model, "half_life": half_life})
        axes.plot(xs, [first * d.retention.retention_at(x) for x in xs], "-", color=CURVE, linewidth=1.2, label=label)
    pre = [(h, v) for h, v, r in zip(hours, nets, rows, strict=True) if r["reading"].before_first_void]
    post = [(h, v) for h, v, r in zip(hours, nets, rows, strict=True) if not r["reading"].before_first_void]
    if pre:
        axes.plot(*zip(*pre, strict=True), "s", color=READING, markersize=7, label=_("reading before the first void (100 %)"))
    if post:
        axes.plot(*zip(*post, strict=True), "o", color=READING, markersize=6, label=_("reading (net of background)"))
    for h, v, r in zip(hours, nets, rows, strict=True):
        axes.annotate(num(r["net"]), (h, v), textcoords="offset points", xytext=(5, 5), fontsize=7, color=READING)
    axes.axhline(site, linestyle="--", color=SITE, linewidth=1.2, label=_("site limit %(site_limit)s mR/h")
                                                                        % {"site_limit": d.site_limit})
    axes.axhline(federal, linestyle=":", color=FEDERAL, linewidth=1.4, label=_("federal limit %(federal_limit)s mR/h")
                                                                             % {"federal_limit": d.federal_limit})
    if d.release is not None:
        for hours_at, colour, name in ((d.release.predicted_release_site_h, SITE, _("site: %(hours)s h")),
                                       (d.release.predicted_release_federal_h, FEDERAL, _("federal: %(hours)s h"))):
            axes.axvline(hours_at, color=colour, linewidth=0.8, alpha=0.8)
            axes.annotate(name % {"hours": f"{hours_at:.1f}"}, (hours_at, 1), xycoords=("data", "axes fraction"),
                          textcoords="offset points", xytext=(3, -12), fontsize=7, color=colour, rotation=0)
    from matplotlib.ticker import FuncFormatter, LogLocator, MultipleLocator, NullFormatter

    axes.set_yscale("log")
    axes.set_ylim(min([*nets, site]) * 0.6, max([*nets, federal]) * 1.8)
    axes.set_xlim(0, end)
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.xaxis.set_major_locator(MultipleLocator(24 if end > 48 else 6))
    axes.grid(True, which="major", linewidth=0.3)
    axes.legend(fontsize=7, loc="lower left", framealpha=0.9)
    return figure


def readings_svg(d: Dosimetry) -> str:
    return figure_svg(readings_figure(d), title=_("Exposure rate at 1 m, course %(number)s")
                                                % {"number": d.course.number}, description=describe(d))


def readings_png(d: Dosimetry) -> bytes:
    return figure_png(readings_figure(d))
