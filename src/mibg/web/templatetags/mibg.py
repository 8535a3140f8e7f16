"""Display filters: activity in mCi with MBq and GBq beside it, times with their zone, exact numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone

from mibg.core.times import site_time
from mibg.core.units import DISPLAY_RULE, Activity

register = template.Library()


@register.filter
def activity(value: Any) -> str:
    """``396.000000`` -> ``396.0 mCi (14652 MBq, 14.652 GBq)`` (rounding rule: see ``display_rule``)."""
    if value in (None, ""):
        return "—"
    try:
        return Activity(Decimal(str(value))).display()
    except InvalidOperation:
        return str(value)


@register.filter
def num(value: Any) -> str:
    """An exact decimal without trailing zeros or exponent: ``19.350`` -> ``19.35``; ``1.1E+8`` -> ``110000000``."""
    if value in (None, ""):
        return "—"
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = format(d.normalize(), "f")
    return text


@register.filter
def ml(value: Any) -> str:
    """A volume in mL as the order sheet PDF prints it: exact up to 2 decimals, else rounded half-to-even to 0.01
    (mibg.reports.numbers.show), so the page and the PDF never differ: ``19.8`` -> ``19.8``, ``28.5764`` -> ``28.58``."""
    if value in (None, ""):
        return "—"
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    rounded = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return format(d.normalize() if rounded == d else rounded, "f")


@register.filter
def places(value: Any, digits: int = 2) -> str:
    """A computed exact decimal as shown: exact when it has at most ``digits`` decimals, else rounded half to even
    (``0.0102345`` -> ``0.01``; ``19.35`` stays ``19.35``). The stored value keeps every digit."""
    if value in (None, ""):
        return "—"
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    rounded = d.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_EVEN)
    return num(d if rounded == d else rounded)


@register.filter
def when(value: Any) -> str:
    """A time in the clinic's zone with the zone named: ``2026-03-02 09:30 PST`` (mibg.core.times.site_time, the one
    format of every time a person reads)."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return site_time(value, timezone.get_current_timezone())
    if isinstance(value, date):
        return site_time(value)
    return str(value)


@register.filter
def css(value: Any) -> str:
    return str(value).replace(" ", "-").lower()


@register.simple_tag
def display_rule() -> str:
    return DISPLAY_RULE


@register.filter
def get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def sources(value: Any) -> str:
    """Citations in a rule or message ("decisions.md A9", "clinical-reference §1.4") named and linked:
    "product decision A9 (scan window)" (mibg.web.sources)."""
    from mibg.web.sources import linked

    return linked(value)



@register.filter
def clinic_word(value: Any) -> str:
    """A vocabulary value in the clinic's word: ``g_csf`` -> ``G-CSF``, ``pbsc`` -> ``PBSC (CD34+ cells)``."""
    from mibg.web.words import clinic_word as word

    return word(value)


@register.filter
def verdict(status: Any, kind: Any = "inclusion") -> str:
    """``"met"|verdict:"exclusion"`` -> ``no exclusion``; inclusion criteria keep met / not met (mibg.web.words)."""
    from mibg.web.words import verdict as word

    return word(status, kind)
