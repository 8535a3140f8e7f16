"""Figures for the pages: a matplotlib figure drawn on an Agg canvas, written as SVG text (for the page) and as
PNG bytes (for PDFs), the same figure both ways.

No pyplot and no global backend change: each figure has its own canvas, so requests never share state. The
outputs carry no date or software tag, and SVG ids are salted with a fixed string, so the same data gives the
same bytes. matplotlib is imported only when a figure is made.

    figure = new_figure(7.0, 3.6)
    axes = figure.add_subplot(1, 1, 1)
    ...
    svg_text, png_bytes = figure_svg(figure, title="..."), figure_png(figure)
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

_RC: dict[RcKeyType, Any] = {"svg.hashsalt": "mibg", "svg.fonttype": "none"}


def new_figure(width_in: float, height_in: float) -> Any:
    """A figure of this size (inches) on its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def figure_svg(figure: Any, *, title: str = "", description: str = "") -> str:
    """The figure as SVG text. Text stays text (searchable, readable by a screen reader); ``title`` and
    ``description`` are written into the SVG's metadata."""
    import matplotlib

    metadata: dict[str, Any] = {"Date": None, "Creator": None}
    if title:
        metadata["Title"] = title
    if description:
        metadata["Description"] = description
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        figure.savefig(buffer, format="svg", metadata=metadata)
    return buffer.getvalue()


def figure_png(figure: Any, *, dpi: int = 150) -> bytes:
    """The figure as PNG bytes, without a software tag."""
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC):
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
