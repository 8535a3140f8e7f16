"""Plots the reports draw when the caller gives none: exposure-rate readings and blood-count recovery.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global backend change), written as PNG
without a timestamp or software tag so the same data gives the same bytes. matplotlib is imported only
when a plot is drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from mibg.reports.record import ExposureReading, LabResult


def _figure(width_in: float, height_in: float):  # type: ignore[no-untyped-def]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=150)
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _hours(start: datetime, when: datetime) -> float:
    return (when - start).total_seconds() / 3600


def readings_png(readings: Sequence[ExposureReading], infusion_start: datetime,
                 limits_mr_per_h: Sequence[tuple[str, Decimal]] = ()) -> bytes:
    """Exposure rate at 1 m (mR/h, log scale) against hours from the start of the infusion, with the
    release limits as horizontal lines (decisions.md "Release")."""
    figure = _figure(6.4, 3.0)
    axes = figure.add_subplot(1, 1, 1)
    hours = [_hours(infusion_start, r.measured_at) for r in readings]
    values = [float(r.mr_per_h_at_1m) for r in readings]
    axes.semilogy(hours, values, "o-", color="#1f4e79", label="reading at 1 m")
    for (label, limit), style in zip(limits_mr_per_h, ("--", ":", "-."), strict=False):
        axes.axhline(float(limit), linestyle=style, color="#b71c1c", linewidth=1,
                     label=f"{label}: {limit} mR/h")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.tick_params(labelsize=7)
    axes.set_xlabel("hours from the start of the infusion", fontsize=8)
    axes.set_ylabel("exposure rate at 1 m (mR/h)", fontsize=8)
    axes.grid(True, which="both", linewidth=0.3)
    axes.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    return _png(figure)


def recovery_png(labs: Sequence[LabResult], infusion_start: datetime,
                 events: Sequence[tuple[str, datetime]] = ()) -> bytes:
    """ANC and platelets (10^9/L) against days from the infusion, with the infusion (day 0) and any
    ``events`` (e.g. the stem-cell infusion) as vertical lines: the count-recovery plot."""
    figure = _figure(6.4, 2.8)
    for index, (test, label, colour) in enumerate((("anc", "ANC (10^9/L)", "#1f4e79"),
                                                   ("platelets", "Platelets (10^9/L)", "#7b1fa2")), start=1):
        axes = figure.add_subplot(1, 2, index)
        points = sorted((lab.collected_at, lab.value) for lab in labs if lab.test == test)
        days = [_hours(infusion_start, when) / 24 for when, _ in points]
        axes.plot(days, [float(v) for _, v in points], "o-", color=colour, markersize=3)
        for name, when in (("131I-MIBG", infusion_start), *events):
            day = _hours(infusion_start, when) / 24
            axes.axvline(day, color="#555555", linestyle=":", linewidth=0.8)
            axes.annotate(name, (day, 1.0), xycoords=("data", "axes fraction"), fontsize=6, rotation=90,
                          va="top", ha="right", color="#555555")
        axes.set_title(label, fontsize=9)
        axes.set_xlabel("days from the infusion", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(True, linewidth=0.3)
    figure.tight_layout()
    return _png(figure)
