"""What every PDF shares: page furniture, styles, tables, signature blocks, and reproducible output.

Every page carries the document title, the patient's name, MRN and date of birth (header), the protocol
label, the software version and "Page X of Y" (footer). Output is reproducible: reportlab's invariant
mode, the creation date taken from the record (never the clock), no random IDs; the same record gives
the same bytes. Text is set in the PDF standard Helvetica (WinAnsi encoding): characters outside it are
spelled out (<= for ≤) rather than dropped. A source cited the code's way ("decisions.md A9", "clinical-reference
§1.4") is printed as what it is, with its title: "product decision A9 (scan window)", "clinical reference section
1.4 (...)" (mibg.protocol.references.named, the reading the screens use).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from mibg import __version__
from mibg.protocol.references import named, without_tracker
from mibg.reports.numbers import DISPLAY_RULE, when
from mibg.reports.record import PatientIdentity, Signature

PAGE = letter
MARGIN = 0.6 * inch
FRAME_WIDTH = PAGE[0] - 2 * MARGIN

# Characters outside WinAnsi (cp1252) that clinical text uses, spelled so nothing is lost in Helvetica.
_SPELLED = {
    "≤": "<=",
    "≥": ">=",
    "→": "->",
    "←": "<-",
    "−": "-",
    "≈": "~",
    "≠": "!=",
    "λ": "lambda",
    "τ": "tau",
    "φ": "phi",
    "Δ": "delta",
    "⁻": "-",
    "¹": "1",
    "²": "2",
    "³": "3",
    "₀": "0",
    "₁": "1",
    "₂": "2",
    "\u00a0": " ",
}


def plain(text: object) -> str:
    """Text safe for Helvetica/WinAnsi, its citations named and the project's issue-tracker references left out:
    known symbols spelled out, anything else outside cp1252 as '?'."""
    out = []
    for ch in named(without_tracker(text)):
        ch = _SPELLED.get(ch, ch)
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            ch = "?"
        out.append(ch)
    return "".join(out)


def para_text(text: object) -> str:
    """Text for a Paragraph: WinAnsi-safe and XML-escaped (Paragraph reads a small markup language)."""
    return escape(plain(text))


_BASE = getSampleStyleSheet()
STYLES: dict[str, ParagraphStyle] = {
    "title": ParagraphStyle("title", parent=_BASE["Title"], fontName="Helvetica-Bold", fontSize=14, leading=17,
                            spaceAfter=4, alignment=TA_LEFT),
    "h2": ParagraphStyle("h2", parent=_BASE["Heading2"], fontName="Helvetica-Bold", fontSize=11, leading=14,
                         spaceBefore=8, spaceAfter=4),
    "body": ParagraphStyle("body", parent=_BASE["BodyText"], fontName="Helvetica", fontSize=9, leading=11.5),
    "small": ParagraphStyle("small", parent=_BASE["BodyText"], fontName="Helvetica", fontSize=7.5, leading=9.5),
    "cell": ParagraphStyle("cell", parent=_BASE["BodyText"], fontName="Helvetica", fontSize=8, leading=10),
    "cellb": ParagraphStyle("cellb", parent=_BASE["BodyText"], fontName="Helvetica-Bold", fontSize=8, leading=10),
    "quote": ParagraphStyle("quote", parent=_BASE["BodyText"], fontName="Helvetica-Oblique", fontSize=7.5,
                            leading=9.5, textColor=colors.HexColor("#333333")),
    "banner": ParagraphStyle("banner", parent=_BASE["BodyText"], fontName="Helvetica-Bold", fontSize=10,
                             leading=13, textColor=colors.white),
}

GRID = colors.HexColor("#9a9a9a")
HEAD_BG = colors.HexColor("#e4e8ee")
STATUS_COLOURS = {
    "met": colors.HexColor("#d9f0d9"),
    "not met": colors.HexColor("#f6d5d5"),
    "unknown": colors.HexColor("#fff1c9"),
    "needs review": colors.HexColor("#fde3c2"),
}


def p(text: object, style: str = "body") -> Paragraph:
    return Paragraph(para_text(text), STYLES[style])


def markup(html: str, style: str = "body") -> Paragraph:
    """A Paragraph from markup the caller built with :func:`para_text` for every piece of data."""
    return Paragraph(html, STYLES[style])


def heading(text: str) -> Paragraph:
    return p(text, "h2")


def banner(text: str, colour: str) -> Table:
    """A full-width coloured band for what must not be missed (blocked plan, not eligible, medical event)."""
    table = Table([[p(text, "banner")]], colWidths=[FRAME_WIDTH])
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(colour)),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]))
    return table


def _cell(value: object) -> Flowable:
    if isinstance(value, Flowable):
        return value
    return p(value, "cell")


class KeptTable(Table):  # type: ignore[misc]
    """A table that never leaves fewer than ``MIN_ROWS`` body rows alone on a page (an orphan at the foot of a
    page or a widow at the top of the next); its header row repeats on every page (``repeatRows``)."""

    MIN_ROWS = 3

    def split(self, availWidth: float, availHeight: float) -> list[Table]:
        parts: list[Table] = super().split(availWidth, availHeight)
        if len(parts) != 2:
            return parts
        head = self.repeatRows
        first = len(parts[0]._cellvalues) - head
        second = len(parts[1]._cellvalues) - head
        if first < self.MIN_ROWS:
            return []  # the whole table starts on the next page
        if second >= self.MIN_ROWS:
            return parts
        keep = first - (self.MIN_ROWS - second)
        if keep < self.MIN_ROWS:
            return []
        height = sum(self._rowHeights[: head + keep])
        return list(super().split(availWidth, height + 0.01))


def grid(header: Sequence[str], rows: Iterable[Sequence[object]], widths: Sequence[float],
         row_colours: Sequence[Any] | None = None) -> Table:
    """A table with a header row; every cell wraps (Paragraph), widths are fractions of the frame width."""
    data = [[p(h, "cellb") for h in header]]
    data += [[_cell(v) for v in row] for row in rows]
    table = KeptTable(data, colWidths=[w * FRAME_WIDTH for w in widths], repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for index, colour in enumerate(row_colours or (), start=1):
        if colour is not None:
            style.append(("BACKGROUND", (0, index), (-1, index), colour))
    table.setStyle(TableStyle(style))
    return table


def fields(rows: Iterable[tuple[str, object]], label_width: float = 0.3) -> Table:
    """A two-column label/value table."""
    data = [[p(label, "cellb"), _cell(value)] for label, value in rows]
    table = KeptTable(data, colWidths=[label_width * FRAME_WIDTH, (1 - label_width) * FRAME_WIDTH])
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (0, -1), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def signature_block(title: str, signatures: Sequence[Signature], blank_roles: Sequence[str] = ()) -> KeepTogether:
    """Recorded electronic signatures (printed name, role, time, meaning); blank lines for roles not signed."""
    parts: list[Flowable] = [heading(title)]
    if signatures:
        parts.append(grid(
            ["Printed name", "Role", "Signed (site time)", "Meaning of the signature"],
            [[s.printed_name, s.role, when(s.signed_at), s.meaning] for s in signatures],
            [0.22, 0.2, 0.22, 0.36],
        ))
        parts.append(p("Electronic signatures recorded in mibg, each linked to this record.", "small"))
    signed_roles = {s.role for s in signatures}
    missing = [role for role in blank_roles if role not in signed_roles]
    if not signatures and not missing:
        parts.append(p("No signature recorded.", "body"))
    for role in missing:
        parts.append(Spacer(1, 10))
        parts.append(grid(["Role", "Printed name", "Signature", "Date and time"],
                          [[role, "", "", ""]], [0.22, 0.26, 0.3, 0.22]))
    return KeepTogether(parts)


def png(data: bytes, width: float = FRAME_WIDTH * 0.85) -> Image:
    """A PNG scaled to ``width`` points, keeping its aspect ratio."""
    image = Image(io.BytesIO(data))
    ratio = image.imageHeight / image.imageWidth
    image.drawWidth = width
    image.drawHeight = width * ratio
    return image


def rounding_note() -> Paragraph:
    return p(f"Numbers: exact values are printed in full; longer values are rounded for display only "
             f"({DISPLAY_RULE}). 1 mCi = 37 MBq exactly. Times are in the site's time zone, with its abbreviation.", "small")


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """What the page furniture shows."""

    title: str
    patient: PatientIdentity
    protocol_label: str
    created: datetime
    course_number: int | None = None
    site: str = ""
    #: The furniture's own words in the document's language (patient, course, protocol, created, page, of);
    #: English where a word is not given.
    labels: dict[str, str] = field(default_factory=dict)

    def word(self, key: str) -> str:
        return self.labels.get(key, key.capitalize() if key in ("patient", "page") else key)


def _pdf_date(created: datetime) -> Callable[..., str]:
    """A reportlab date formatter that always writes the record's creation time (PDF 1.7 §7.9.4)."""
    offset = created.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hh, mm = divmod(abs(minutes), 60)
    text = f"D:{created.strftime('%Y%m%d%H%M%S')}{sign}{hh:02d}'{mm:02d}'"
    return lambda *_args: text


def _canvas_class(spec: DocumentSpec) -> type[Canvas]:
    """A canvas that defers page furniture to the end, so every page can say "Page X of Y"."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self.setDateFormatter(_pdf_date(spec.created))

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                _furniture(self, spec, number, total)
                Canvas.showPage(self)
            Canvas.save(self)

    return NumberedCanvas


def _furniture(canvas: Canvas, spec: DocumentSpec, number: int, total: int) -> None:
    width, height = PAGE
    canvas.saveState()
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(MARGIN, height - 0.42 * inch, plain(spec.title))
    canvas.setFont("Helvetica", 8)
    course = f"  |  {spec.word('course')} {spec.course_number}" if spec.course_number else ""
    canvas.drawRightString(width - MARGIN, height - 0.42 * inch, plain(f"{spec.protocol_label}{course}"))
    canvas.drawString(MARGIN, height - 0.58 * inch, plain(f"{spec.word('patient')}: {spec.patient.identifier_line}"))
    canvas.setStrokeColor(GRID)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, height - 0.64 * inch, width - MARGIN, height - 0.64 * inch)
    canvas.line(MARGIN, 0.62 * inch, width - MARGIN, 0.62 * inch)
    canvas.setFont("Helvetica", 7.5)
    canvas.drawString(MARGIN, 0.48 * inch, plain(
        f"MRN {spec.patient.mrn}  |  {spec.word('protocol')} {spec.protocol_label}  |  mibg {__version__}  |  "
        f"{spec.word('created')} {when(spec.created)}"))
    canvas.drawRightString(width - MARGIN, 0.48 * inch, plain(f"{spec.word('page')} {number} {spec.word('of')} {total}"))
    if spec.site:
        canvas.drawString(MARGIN, 0.34 * inch, plain(spec.site))
    canvas.restoreState()


def render(spec: DocumentSpec, story: list[Flowable]) -> bytes:
    """Lay out ``story`` and return the PDF bytes (reproducible: invariant mode, fixed creation date)."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=0.8 * inch,
        bottomMargin=0.8 * inch,
        title=plain(f"{spec.title} - {spec.patient.display_name} (MRN {spec.patient.mrn})"),
        author=plain(spec.site or "mibg"),
        subject=plain(f"{spec.protocol_label}; mibg {__version__}"),
        creator=f"mibg {__version__}",
        invariant=1,
    )
    document.build(story, canvasmaker=_canvas_class(spec))
    return buffer.getvalue()
