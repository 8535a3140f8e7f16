"""The rows of the radiation section's table of readings at 1 m, written in Python (issue 14).

The same cells as the template loop they replace, through the same filters (``when``, ``num``, Django's
``floatformat`` and ``date``, so localisation and rounding are the template's), the same words and the same
escaping; ``tests/web/test_reading_rows.py`` renders both and compares them.
"""

from __future__ import annotations

import html
from typing import Any

from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from mibg.web.templatetags.mibg import num, when

__all__ = ["reading_rows"]

#: A primary key no reading has: reversed once per page, then replaced by each row's key.
_SENTINEL = 2147483647


def _per_row(name: str) -> tuple[str, str]:
    before, _, after = html.escape(reverse(name, args=[_SENTINEL])).partition(str(_SENTINEL))
    return before, after


def reading_rows(rows: list[dict[str, Any]], can_correct: bool) -> SafeString:
    """One ``<tr>`` per row of ``Dosimetry.rows`` (reading, hours, net, retention)."""
    esc = html.escape
    first_void = gettext("before first void")
    if can_correct:
        correct, void = _per_row("radiation:correct"), _per_row("radiation:void")
        words = (gettext("Correct"), gettext("Void"))
    out: list[str] = []
    for row in rows:
        r = row["reading"]
        badge = f' <span class="badge info">{first_void}</span>' if r.before_first_void else ""
        retention = floatformat(row["retention"], 4) or "—"
        note = f'<br><span class="muted">{esc(str(r.note))}</span>' if r.note else ""
        edit = (f'<td class="no-print"><a href="{correct[0]}{r.pk}{correct[1]}">{words[0]}</a> · '
                f'<a href="{void[0]}{r.pk}{void[1]}">{words[1]}</a></td>') if can_correct else ""
        out.append(
            f'<tr>\n  <td class="num">{esc(when(r.measured_at))}{badge}</td>\n'
            f'  <td class="num">{floatformat(row["hours"], 2)}</td><td class="num">{esc(num(r.mr_per_h))}</td>\n'
            f'  <td class="num">{esc(num(r.background_mr_per_h))}</td><td class="num">{esc(num(row["net"]))}</td>\n'
            f'  <td class="num">{esc(str(retention))}</td>\n'
            f'  <td>{esc(str(r.instrument_id))} <span class="muted">({esc(date_filter(r.instrument_calibration_due, "Y-m-d"))})</span></td>\n'
            f"  <td>{esc(str(r.measured_by))}{note}</td>\n  {edit}\n</tr>")
    return mark_safe("".join(out))
