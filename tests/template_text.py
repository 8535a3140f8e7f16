"""The visible text of a Django template, in runs, for the check that every interface string is marked for
translation (tests/unit/test_templates_translated.py, issue 15).

A run is text a person reads between two HTML tags or template tags, with the ``{{ variables }}`` inside it: the
words of one sentence, e.g. ``Discovered {{ report.discovered_at|when }}: every clock starts there.``. Text inside
``{% translate %}`` / ``{% blocktranslate %}`` is marked; text inside tags (attributes), ``<script>``, ``<style>``,
``<textarea>``, comments and ``{% verbatim %}`` is not a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.template.base import DebugLexer, TokenType

#: Elements whose content is not interface text.
RAW_ELEMENTS = ("script", "style", "textarea")
#: Units and symbols shown as they are in every language (SI and clinical units, the MIBG isotope), and the
#: clinic's abbreviations that are names rather than words.
ALLOWED = {
    "mCi", "MBq", "GBq", "kg", "g", "mg", "mL", "h", "min", "d", "s", "mR/h", "Gy", "mSv", "mCi/kg", "MBq/kg",
    "U/L", "mg/dL", "g/dL", "10^9/L", "x", "131I-MIBG", "I-131", "CTCAE", "v5.0", "MRN", "ULN", "LLN", "ANC",
    "CSV", "PDF", "FHIR", "JSON", "DICOM", "RRDSR", "Excel", "TOTP", "mibg", "PST", "PDT", "UTC", "T1/2", "tau",
    "phi", "r", "n",
}
ENTITY = re.compile(r"&#?\w+;")
WORD = re.compile(r"[^\s()\[\],.;:·—–=+<>≤≥/\"'!?]+(?:/[^\s()\[\],.;:·—–=+<>≤≥\"'!?]+)*")


@dataclass
class Run:
    """Text and variables of one sentence: ``parts`` are ("text", raw) or ("var", raw ``{{ ... }}``, expression)."""

    start: int  # offset in the source of the first part
    end: int
    line: int
    parts: list[tuple[str, ...]] = field(default_factory=list)
    marked: bool = False

    @property
    def text(self) -> str:
        return "".join(p[1] for p in self.parts if p[0] == "text")

    @property
    def visible(self) -> bool:
        """Whether the run has words a translator would translate (not only units, symbols, numbers)."""
        words = WORD.findall(ENTITY.sub(" ", self.text))
        return any(re.search(r"[A-Za-z]", w) and w not in ALLOWED for w in words)


def runs(source: str) -> list[Run]:
    """Every run of visible text in ``source``, in order."""
    found: list[Run] = []
    current: Run | None = None
    in_tag = False
    quote = ""
    tag_text = ""
    raw_element = ""
    marked = 0  # inside {% blocktranslate %}
    skipped = ""  # inside {% comment %} / {% verbatim %}: the closing tag's name

    def close() -> None:
        nonlocal current
        if current is not None and current.parts:
            found.append(current)
        current = None

    def add(kind: str, raw: str, start: int, end: int, line: int, extra: str = "") -> None:
        nonlocal current
        if current is None:
            current = Run(start, end, line, marked=marked > 0)
        current.parts.append((kind, raw, extra) if kind == "var" else (kind, raw))
        current.end = end

    for token in DebugLexer(source).tokenize():
        start, end = token.position
        raw = source[start:end]
        if skipped:
            if token.token_type is TokenType.BLOCK and token.contents.split()[0] == skipped:
                skipped = ""
            continue
        if token.token_type is TokenType.BLOCK:
            name = token.contents.split()[0]
            if in_tag:
                continue
            close()
            if name in ("comment", "verbatim"):
                skipped = "end" + name
            elif name in ("blocktranslate", "blocktrans"):
                marked += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                marked -= 1
            continue
        if token.token_type is TokenType.COMMENT:
            continue
        if token.token_type is TokenType.VAR:
            if not in_tag and not raw_element:
                add("var", raw, start, end, token.lineno, token.contents)
            continue
        # TEXT: split into text outside tags and the tags themselves
        i = 0
        piece_start = None
        while i < len(raw):
            c = raw[i]
            if in_tag:
                tag_text += c
                if quote:
                    if c == quote:
                        quote = ""
                elif c in "\"'" and tag_text[-2:-1] == "=":
                    quote = c
                elif c == ">":
                    in_tag = False
                    name = re.match(r"<\s*(/?)\s*([A-Za-z0-9]*)", tag_text)
                    if name and not name.group(1) and name.group(2).lower() in RAW_ELEMENTS:
                        raw_element = name.group(2).lower()
                i += 1
                continue
            if raw_element:
                closing = f"</{raw_element}"
                if raw[i:i + len(closing)].lower() == closing:
                    raw_element = ""
                    in_tag, tag_text = True, ""
                    continue
                i += 1
                continue
            if c == "<" and i + 1 < len(raw) and (raw[i + 1].isalpha() or raw[i + 1] in "/!"):
                if piece_start is not None:
                    add("text", raw[piece_start:i], start + piece_start, start + i,
                        token.lineno + raw[:piece_start].count("\n"))
                    piece_start = None
                close()
                in_tag, tag_text = True, ""
                continue
            if piece_start is None:
                piece_start = i
            i += 1
        if piece_start is not None:
            add("text", raw[piece_start:], start + piece_start, end, token.lineno + raw[:piece_start].count("\n"))
    close()
    return found


def unmarked(source: str) -> list[Run]:
    """The runs a person reads that are not marked for translation."""
    return [r for r in runs(source) if not r.marked and r.visible]


#: Attributes a person reads (a tooltip, an empty field's hint, a screen reader's name, an image's text).
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
_ATTRIBUTE = re.compile(r"(?<=\s)(" + "|".join(READ_ATTRIBUTES) + r")\s*=\s*(\"[^\"]*\"|'[^']*')")
_NOT_SHOWN = re.compile(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|\{#.*?#\}|<script\b.*?</script>",
                        re.DOTALL | re.IGNORECASE)
_MARKED_BLOCK = re.compile(r"\{%\s*blocktrans(?:late)?\b.*?\{%\s*endblocktrans(?:late)?\s*%\}", re.DOTALL)
_TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)


def unmarked_attributes(source: str) -> list[Run]:
    """The values of ``title=``, ``placeholder=``, ``aria-label=`` and ``alt=`` whose words are not marked for
    translation (words outside ``{% translate %}`` / ``{% blocktranslate %}`` and outside ``{{ variables }}``)."""
    def blank(match: re.Match[str]) -> str:  # same length and lines, so offsets and line numbers stay
        return re.sub(r"[^\n]", " ", match.group())

    blanked = _TEMPLATE_TAG.sub(blank, _MARKED_BLOCK.sub(blank, _NOT_SHOWN.sub(blank, source)))
    found = []
    for match in _ATTRIBUTE.finditer(blanked):
        words = " ".join(match.group(2)[1:-1].split())
        run = Run(match.start(2), match.end(2), blanked.count("\n", 0, match.start()) + 1, [("text", words)])
        if run.visible:
            found.append(run)
    return found
