"""Drawn plots and retention fits kept in a cache, keyed by everything they are computed from.

matplotlib takes 100-500 ms to draw one figure; the course page, the radiation page and the follow-up page
each show one, and without this every view of an unchanged course drew it again (bench/RESULTS.md).

The key is a SHA-256 of the plot's kind, the data it is drawn from (the repr of the frozen core results or of
the stored values, which show every number and time), the clinic's time zone, the active language, and the source code of the
modules that draw it. New data, a new setting or changed drawing code give a new key, so a stale plot is never
shown; an entry is only ever replaced by the same drawing. The cache is Django's "plots" cache (settings.py):
Redis when MIBG_CACHE_URL is set, shared by every application server; otherwise files under MIBG_DATA_DIR,
shared by one server's processes.

Retention fits (:func:`remembered`) are keyed the same way: the readings, activity and weight they are fitted
from, a digest of the whole protocol definition, and the source code of the core modules that compute them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import get_language


@cache
def _code_version() -> str:
    # The modules' text, read without importing them: the radiation plots import the radiation services, which
    # use this cache (an import circle otherwise).
    source = "".join(_source(name) for name in ("mibg.web.plots", "mibg.web.followup.plots", "mibg.web.radiation.plots"))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"no source for {module}")
    return Path(spec.origin).read_text(encoding="utf-8")


@cache
def _core_version() -> str:
    """A digest of the core modules a fit or a dose is computed by: new code, new keys."""
    from mibg.core import decay, dosimetry, release

    source = "".join(inspect.getsource(module) for module in (decay, dosimetry, release))
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
    # The active language too: a plot's title, axes and legend are marked for translation (issue 15).
    text = f"{kind}\n{settings.TIME_ZONE}\n{get_language()}\n{_code_version()}\n{data!r}"
    return f"plot:{kind}:{hashlib.sha256(text.encode()).hexdigest()}"


def drawn(kind: str, data: object, draw: Callable[[], str]) -> str:
    """The plot drawn from ``data``: from the cache when it was drawn before, else ``draw()`` (and kept)."""
    store = caches["plots"]
    key = key_for(kind, data)
    text: str | None = store.get(key)
    if text is None:
        text = draw()
        store.set(key, text)
    return text


T = TypeVar("T")


def result_key(kind: str, data: object) -> str:
    """The shared key of a computed core result: its kind, the core's code and every input (``data``'s repr)."""
    text = f"{kind}\n{_core_version()}\n{data!r}"
    return f"result:{kind}:{hashlib.sha256(text.encode()).hexdigest()}"


def remembered(kind: str, data: object, compute: Callable[[], T]) -> T:
    """``compute()``'s result for these inputs, from the shared cache when any server computed it before."""
    store = caches["plots"]
    key = result_key(kind, data)
    value = store.get(key)
    if value is None:
        value = compute()
        store.set(key, value)
    return value  # type: ignore[no-any-return]
