"""Reads shared by the sections of one page: the course page's sections (plan, radiation, follow-up, documents)
each ask for the course's current directive, its administration, its labs; the page reads each once.

A page view that only reads marks its course with :func:`for_page`; the read helpers (``current_directive``,
``live_labs``, ...) then keep their answer on that course object, which lives for one request. Anything else
(a service, a form post, a command) gets a course without the mark and reads afresh every time, so a write is
never followed by a stale read. bench/RESULTS.md: the course page read the current directive 7 times and the
labs twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_ATTRIBUTE = "_page_reads"


def for_page(course: T) -> T:
    """Mark ``course`` as read by one page view: its reads are kept until the response is made."""
    setattr(course, _ATTRIBUTE, {})
    return course


def once(course: Any, key: str, read: Callable[[], T]) -> T:
    """``read()``, kept on ``course`` for the rest of the page when the page marked it, else read afresh."""
    kept: dict[str, Any] | None = getattr(course, _ATTRIBUTE, None)
    if kept is None:
        return read()
    if key not in kept:
        kept[key] = read()
    value: T = kept[key]
    return value
