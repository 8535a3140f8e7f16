"""Drawn plots kept in a cache, keyed by everything they are drawn from.

matplotlib takes 100-500 ms to draw one figure; the course page, the radiation page and the follow-up page
each show one, and without this every view of an unchanged course drew it again (bench/RESULTS.md).

The key is a SHA-256 of the plot's kind, the data it is drawn from (the repr of the frozen core results or of
the stored values, which show every number and time), the clinic's time zone, and the source code of the
modules that draw it. New data, a new setting or changed drawing code give a new key, so a stale plot is never
shown; an entry is only ever replaced by the same drawing. The cache is Django's "plots" cache (settings.py:
files under MIBG_DATA_DIR, shared by every server process).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.core.cache import caches


@cache
def _code_version() -> str:
    from mibg.web import plots
    from mibg.web.followup import plots as followup_plots
    from mibg.web.radiation import plots as radiation_plots

    source = "".join(inspect.getsource(module) for module in (plots, followup_plots, radiation_plots))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


_PROTOCOLS: dict[int, tuple[object, str]] = {}


def protocol_key(protocol: object) -> str:
    """A digest of the whole protocol definition (its limits, site parameters and constants), so a plot keyed
    with it is drawn again when any of them changes, even under the same label. Computed once per object."""
    hit = _PROTOCOLS.get(id(protocol))
    if hit is None or hit[0] is not protocol:
        hit = (protocol, hashlib.sha256(repr(protocol).encode()).hexdigest()[:16])
        _PROTOCOLS[id(protocol)] = hit
    return hit[1]


def key_for(kind: str, data: object) -> str:
    text = f"{kind}\n{settings.TIME_ZONE}\n{_code_version()}\n{data!r}"
    return f"plot:{kind}:{hashlib.sha256(text.encode()).hexdigest()}"


def drawn(kind: str, data: object, draw: Callable[[], str]) -> str:
    """The plot drawn from ``data``: from the cache when it was drawn before, else ``draw()`` (and kept)."""
    store = caches["plots"]
    key = key_for(kind, data)
    text = store.get(key)
    if text is None:
        text = draw()
        store.set(key, text)
    return text
