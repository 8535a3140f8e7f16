"""The clinic's words for what the code names: vocabulary values and criterion results (issue 15)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["CLINIC_WORDS", "clinic_phrase", "clinic_word", "verdict"]

#: Values of the clinical vocabulary as the clinic writes them: "g csf" is G-CSF, "pbsc" PBSC (CD34+ cells).
CLINIC_WORDS = {
    "g_csf": "G-CSF", "gm_csf": "GM-CSF", "il_6": "IL-6", "pbsc": "PBSC (CD34+ cells)",
    "bone_marrow": "bone marrow (MNC)", "anc": "ANC", "ast": "AST", "alt": "ALT", "related_tumor": "related tumour",
    "red_cells": "red cells", "total_abdominal": "total abdominal", "whole_lung": "whole lung",
    "total_body": "total body", "central_line": "central line", "peripheral_line": "peripheral line",
}

#: A criterion's result as the patient's side of it reads: an exclusion the patient passes is "no exclusion",
#: not "met" (which reads as "excluded").
VERDICTS = {
    "inclusion": {"met": "met", "not met": "not met", "unknown": "not known", "needs review": "needs the chair"},
    "exclusion": {"met": "no exclusion", "not met": "excluded", "unknown": "not known",
                  "needs review": "needs the chair"},
}


def clinic_word(value: Any) -> str:
    """``g_csf`` -> ``G-CSF``; a value without its own word has its underscores as spaces."""
    text = "" if value is None else str(value)
    return CLINIC_WORDS.get(text, text.replace("_", " "))


def clinic_phrase(value: Any) -> str:
    """Every snake_case word of a phrase in the clinic's word: ``last g_csf dose`` -> ``last G-CSF dose``."""
    text = "" if value is None else str(value)
    return re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", lambda m: clinic_word(m.group(0)), text)


def verdict(status: Any, kind: Any = "inclusion") -> str:
    """A criterion's status from the patient's side: ``verdict("met", "exclusion")`` -> ``no exclusion``."""
    words = VERDICTS.get(str(kind), VERDICTS["inclusion"])
    return words.get(str(status), str(status))
