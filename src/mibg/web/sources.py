"""Where a rule comes from, in words a clinician reads: "product decision A9 (scan window)", linked.

Rules and messages cite their sources the way the code does ("decisions.md A9", "clinical-reference §1.4").
On a page that reads as the code's notes, so every such citation is shown as what it is, a product decision or a
section of the clinical reference, with its title, and linked to the page that lists them all
(:func:`mibg.web.documents.views.references`). The catalogue is ``mibg/protocol/references.json``.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from mibg.protocol.references import DecisionEntry, load_references

__all__ = ["linked", "plain"]

_ID = r"[A-Z]{1,2}\d+"
_IDS = rf"{_ID}(?:(?:\s*,\s*|\s+and\s+|/){_ID})*"
_SECTION_WORD = r"(?:\s+(?:Dose|Eligibility|Radiation safety and dosimetry))?"
_DECISIONS = re.compile(
    rf"decisions\.md{_SECTION_WORD}(?:\s+(?:'(?P<quoted>[^']+)'|\"(?P<dquoted>[^\"]+)\"|(?P<ids>{_IDS})\b))?")
_REFERENCE = re.compile(r"clinical-reference(?:\.md)?(?:\s+§\s?(?P<section>\d+(?:\.\d+)?)(?:\s*[–-]\s*§\s?\d+(?:\.\d+)?)?)?")
#: A further section of the reference in the same citation: "clinical-reference §1.3 S2, S3, T5; §1.4 R1, R2".
_MORE_SECTIONS = r"(?<=[;,] )§\s?(?P<bare>\d+(?:\.\d+)?)"
_CITATION = re.compile(f"{_DECISIONS.pattern}|{_REFERENCE.pattern}|{_MORE_SECTIONS}")


@cache
def _page() -> str:
    return reverse("documents:references")


def _decision(key: str) -> DecisionEntry | None:
    catalogue = load_references()
    return catalogue.decision(key)


def _decision_html(entry: DecisionEntry | None, shown: str) -> str:
    if entry is None:
        return format_html('<a class="source" href="{}">product decision {}</a>', _page(), shown)
    return format_html('<a class="source" href="{}#decision-{}" title="{}">product decision {}</a> ({})', _page(),
                       entry.id, entry.decision[:300], shown, entry.title)


def _one(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.startswith("decisions"):
        name = match.group("quoted") or match.group("dquoted")
        if name:
            entry = _decision(name)
            anchor = f"#decision-{entry.id}" if entry else ""
            return format_html('<a class="source" href="{}{}" title="{}">product decision “{}”</a>', _page(), anchor,
                               entry.decision[:300] if entry else "", entry.title if entry else name)
        ids = match.group("ids")
        if ids:
            parts = re.split(r"(\s*,\s*|\s+and\s+|/)", ids)
            return "".join(_decision_html(_decision(p), p) if re.fullmatch(_ID, p) else escape(p) for p in parts)
        return format_html('<a class="source" href="{}">the product decisions</a>', _page())
    section = match.group("section") or match.group("bare")
    if section is None:
        return format_html('<a class="source" href="{}#clinical-reference">the clinical reference</a>', _page())
    title = load_references().section_title(f"§{section}")
    if title is not None:  # the reference's own note on where the project records its decisions is not for the page
        title = re.sub(r",?\s*§\s?\d+(?:\.\d+)?", "", re.sub(r"\s*\([^()]*decisions\.md[^()]*\)", "", title))
    if title is None:
        return format_html('<a class="source" href="{}#clinical-reference">clinical reference §{}</a>', _page(), section)
    return format_html('<a class="source" href="{}#ref-{}" title="{}">clinical reference §{}</a> ({})', _page(),
                       section, title, section, title)


def linked(text: object) -> SafeString:
    """``text`` escaped for HTML, every citation of a decision or a reference section named and linked."""
    return _linked("" if text is None else str(text))


@lru_cache(maxsize=4096)
def _linked(raw: str) -> SafeString:
    """:func:`linked` of one text, once per process: it depends on the text alone (the catalogue of sources and the
    page that lists them are fixed for the process)."""
    out: list[str] = []
    last = 0
    for match in _CITATION.finditer(raw):
        out.append(escape(raw[last:match.start()]))
        out.append(_one(match))
        last = match.end()
    out.append(escape(raw[last:]))
    return mark_safe("".join(out))


def plain(text: object) -> str:
    """The same words without links (for PDFs, e-mail and CSV): "product decision A9 (scan window)"."""
    return re.sub(r"<[^>]+>", "", str(linked(text))).replace("&#x27;", "'").replace("&quot;", '"').replace(
        "&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
