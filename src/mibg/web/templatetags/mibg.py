"""Display filters: activity in mCi with MBq and GBq beside it, times with their zone, exact numbers."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import get_language

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
        return _site_time(value, timezone.get_current_timezone())
    if isinstance(value, date):
        return site_time(value)
    return str(value)


#: site_time is a pure function of the moment and the zone (an aware datetime hashes by its instant, as site_time
#: reads it): a page shows the same times on every view.
_site_time = lru_cache(maxsize=16384)(site_time)


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?")


@register.filter
def shown(value: Any) -> str:
    """A value as the clinic reads it: every ISO time in it (``2026-11-27T08:00:00-08:00``, as the rules record
    their inputs) in the site's format (:func:`when`); anything else, dates included, as it is."""
    if isinstance(value, datetime):
        return when(value)
    text = "" if value is None else str(value)
    return _ISO_TIME.sub(lambda m: when(m.group(0).replace("Z", "+00:00")), text)


_PARAMETER = re.compile(r"\s*\((?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+)\)")


@register.filter
def explained(value: Any) -> str:
    """How a rule placed something, as the clinic reads it: the site parameters' code names in brackets left out
    (``-24 h (iodide_hours_before)`` -> ``-24 h``), times in the site's format, vocabulary in the clinic's words and
    sources named and linked (:func:`sources`).

    A text is read once per process and time zone (:func:`_explained`): the course page's plan shows some 60 of
    them, the same on every view (bench/RESULTS.md, issue 14)."""
    if isinstance(value, datetime):
        return _explain(shown(value))
    return _explained("" if value is None else str(value), timezone.get_current_timezone(), get_language())


def _explain(text: str) -> str:
    from mibg.protocol.references import without_tracker
    from mibg.web.sources import linked
    from mibg.web.words import clinic_phrase as words

    return linked(words(without_tracker(_PARAMETER.sub("", shown(text)))))


@lru_cache(maxsize=4096)
def _explained(text: str, zone: tzinfo, language: str | None) -> str:
    """:func:`explained` of a text in ``zone`` and ``language``: everything it depends on is its key (the ISO times
    in it are shown in the zone, the clinic's words in the language; the sources' catalogue and the link to it are
    fixed for the process)."""
    with timezone.override(zone):
        return _explain(text)


@register.filter
def clinic_phrase(value: Any) -> str:
    """A phrase of the code's with its vocabulary values in the clinic's words: ``last g_csf dose`` ->
    ``last G-CSF dose`` (mibg.web.words)."""
    from mibg.web.words import clinic_phrase as words

    return words(value)


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


@register.filter
def role_name(value: Any) -> str:
    """A role key as the team says it: ``nurse`` -> ``Research nurse / coordinator`` (mibg.web.permissions.ROLES)."""
    from mibg.web.permissions import ROLES

    return ROLES.get(str(value), str(value))
