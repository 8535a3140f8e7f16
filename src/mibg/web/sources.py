"""Where a rule comes from, in words a clinician reads: "product decision A9 (scan window)", linked.

Rules and messages cite their sources the way the code does ("decisions.md A9", "clinical-reference §1.4").
On a page that reads as the code's notes, so every such citation is shown as what it is, a product decision or a
section of the clinical reference, with its title, and linked to the page that lists them all
(:func:`mibg.web.documents.views.references`). The citations are read once, for every door, by
:func:`mibg.protocol.references.citations` (the catalogue is ``mibg/protocol/references.json``); paper, e-mail and
CSV write them in words without links (:func:`plain`, :func:`mibg.protocol.references.named`).
"""

from __future__ import annotations

from functools import cache, lru_cache

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from mibg.protocol.references import Cited, citations, named

__all__ = ["linked", "plain"]


@cache
def _page() -> str:
    return reverse("documents:references")


def _html(cited: Cited) -> str:
    entry = cited.entry
    if cited.kind == "decision":
        if entry is None:
            return format_html('<a class="source" href="{}">product decision {}</a>', _page(), cited.shown)
        return format_html('<a class="source" href="{}#decision-{}" title="{}">product decision {}</a> ({})',
                           _page(), entry.id, entry.decision[:300], cited.shown, entry.title)
    if cited.kind == "named decision":
        anchor = f"#decision-{entry.id}" if entry else ""
        return format_html('<a class="source" href="{}{}" title="{}">product decision “{}”</a>', _page(), anchor,
                           entry.decision[:300] if entry else "", entry.title if entry else cited.shown)
    if cited.kind == "decisions":
        return format_html('<a class="source" href="{}">the product decisions</a>', _page())
    if cited.kind == "reference":
        return format_html('<a class="source" href="{}#clinical-reference">the clinical reference</a>', _page())
    if cited.title is None:
        return format_html('<a class="source" href="{}#clinical-reference">clinical reference §{}</a>', _page(),
                           cited.shown)
    return format_html('<a class="source" href="{}#ref-{}" title="{}">clinical reference §{}</a> ({})', _page(),
                       cited.shown, cited.title, cited.shown, cited.title)


def linked(text: object) -> SafeString:
    """``text`` escaped for HTML, every citation of a decision or a reference section named and linked."""
    return _linked("" if text is None else str(text))


@lru_cache(maxsize=4096)
def _linked(raw: str) -> SafeString:
    """:func:`linked` of one text, once per process: it depends on the text alone (the catalogue of sources and the
    page that lists them are fixed for the process)."""
    return mark_safe("".join(escape(piece) if isinstance(piece, str) else _html(piece) for piece in citations(raw)))


def plain(text: object) -> str:
    """The same words without links (for PDFs, e-mail and CSV): "product decision A9 (scan window)"."""
    return named(text)
