"""The analytics plots: whole-body dose (x) against a count nadir or the days to recovery, and the share of courses
with stem-cell rescue per whole-body-dose band with its Wilson interval (matplotlib, drawn as mibg.web.followup.plots
draws: object API, no pyplot)."""

from __future__ import annotations

import textwrap
from typing import Any

from django.utils.translation import gettext as _

from mibg.web.analytics.analysis import CorrelationResult, RescueResult
from mibg.web.followup.plots import SERIES_COLOUR, _figure

#: The most characters of a title line that fit the 4.6-inch figure at 8 points: longer lines wrap, never cut.
TITLE_WIDTH = 64


def _title(*lines: object) -> str:
    return "\n".join(textwrap.fill(str(line), TITLE_WIDTH) for line in lines)


def correlation_figure(result: CorrelationResult) -> Any:
    figure = _figure(4.6, 3.6)
    axes = figure.subplots()
    xs = [float(dose) for _, dose, _ in result.points]
    ys = [float(value) for _, _, value in result.points]
    axes.scatter(xs, ys, color=SERIES_COLOUR, s=22, zorder=3)
    axes.set_title(_title(result.analysis.title, result.correlation.text()), fontsize=8)
    axes.set_xlabel(_("whole-body dose (Gy)"), fontsize=8)
    axes.set_ylabel(result.analysis.value_header, fontsize=8)
    axes.tick_params(labelsize=7.5)
    axes.grid(True, linewidth=0.3)
    if not result.points:
        axes.text(0.5, 0.5, _("no course has both values yet"), transform=axes.transAxes, ha="center", va="center",
                  color="#5b6475")
    figure.tight_layout()
    return figure


def rescue_figure(result: RescueResult) -> Any:
    figure = _figure(4.6, 3.6)
    axes = figure.subplots()
    labels = [b.label.replace(" Gy", "") for b in result.bands]
    shares = [float(b.share) if b.share is not None else 0.0 for b in result.bands]
    low = [max(0.0, s - float(b.ci_low)) if b.ci_low is not None else 0.0 for s, b in zip(shares, result.bands, strict=True)]
    high = [max(0.0, float(b.ci_high) - s) if b.ci_high is not None else 0.0 for s, b in zip(shares, result.bands, strict=True)]
    positions = list(range(len(labels)))
    axes.bar(positions, shares, color=SERIES_COLOUR, yerr=[low, high], capsize=3, ecolor="#b3261e")
    for x, b in zip(positions, result.bands, strict=True):
        axes.annotate(f"{b.rescued}/{b.courses}", (x, 0.02), ha="center", fontsize=7, color="white" if b.share else "#5b6475")
    axes.set_xticks(positions, labels, fontsize=7)
    axes.set_ylim(0, 1.05)
    axes.set_title(_title(_("Courses that needed stem-cell rescue, by whole-body dose (95 % Wilson CI)")), fontsize=8)
    axes.set_xlabel(_("whole-body dose band (Gy)"), fontsize=8)
    axes.set_ylabel(_("share of courses"), fontsize=8)
    axes.tick_params(labelsize=7.5)
    axes.grid(True, axis="y", linewidth=0.3)
    figure.tight_layout()
    return figure
