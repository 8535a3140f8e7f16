"""The clinic's words for what the code names: vocabulary values and criterion results (issue 15)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

__all__ = ["CLINIC_WORDS", "clinic_phrase", "clinic_word", "verdict"]

#: Values of the clinical vocabulary (mibg.core.vocabulary) as the clinic writes them, marked for translation: "g csf"
#: is G-CSF, "pbsc" PBSC (CD34+ cells). Every value with a word in it has its entry here (a test checks), so a
#: translation of the interface translates every choice of the forms.
CLINIC_WORDS: dict[str, StrOrPromise] = {
    "g_csf": "G-CSF", "gm_csf": "GM-CSF", "il_6": "IL-6", "pbsc": gettext_lazy("PBSC (CD34+ cells)"),
    "bone_marrow": gettext_lazy("bone marrow (MNC)"), "anc": "ANC", "ast": "AST", "alt": "ALT",
    "related_tumor": gettext_lazy("related tumour"), "red_cells": gettext_lazy("red cells"),
    "total_abdominal": gettext_lazy("total abdominal"), "whole_lung": gettext_lazy("whole lung"),
    "total_body": gettext_lazy("total body"), "central_line": gettext_lazy("central line"),
    "peripheral_line": gettext_lazy("peripheral line"),
    # The rest of the vocabulary, as it is written (a value's underscores as spaces).
    "female": gettext_lazy("female"), "male": gettext_lazy("male"), "other": gettext_lazy("other"),
    "unknown": gettext_lazy("unknown"), "neuroblastoma": gettext_lazy("neuroblastoma"),
    "pheochromocytoma": gettext_lazy("pheochromocytoma"), "paraganglioma": gettext_lazy("paraganglioma"),
    "refractory": gettext_lazy("refractory"), "relapsed": gettext_lazy("relapsed"),
    "progressive": gettext_lazy("progressive"), "metastatic": gettext_lazy("metastatic"),
    "platelets": gettext_lazy("platelets"), "hemoglobin": gettext_lazy("hemoglobin"),
    "bilirubin": gettext_lazy("bilirubin"), "creatinine": gettext_lazy("creatinine"),
    "granulocytes": gettext_lazy("granulocytes"), "systemic": gettext_lazy("systemic"),
    "surgery": gettext_lazy("surgery"), "craniospinal": gettext_lazy("craniospinal"),
    "erythropoietin": gettext_lazy("erythropoietin"), "pegfilgrastim": gettext_lazy("pegfilgrastim"),
    "darbepoetin": gettext_lazy("darbepoetin"), "lansky": gettext_lazy("lansky"),
    "karnofsky": gettext_lazy("karnofsky"), "negative": gettext_lazy("negative"), "trace": gettext_lazy("trace"),
}

#: A criterion's result as the patient's side of it reads: an exclusion the patient passes is "no exclusion",
#: not "met" (which reads as "excluded").
VERDICTS: dict[str, dict[str, StrOrPromise]] = {
    "inclusion": {"met": gettext_lazy("met"), "not met": gettext_lazy("not met"),
                  "unknown": gettext_lazy("not known"), "needs review": gettext_lazy("needs the chair")},
    "exclusion": {"met": gettext_lazy("no exclusion"), "not met": gettext_lazy("excluded"),
                  "unknown": gettext_lazy("not known"), "needs review": gettext_lazy("needs the chair")},
}


def clinic_word(value: Any) -> str:
    """``g_csf`` -> ``G-CSF``; a value without its own word has its underscores as spaces."""
    text = "" if value is None else str(value)
    word = CLINIC_WORDS.get(text)
    return text.replace("_", " ") if word is None else str(word)


def clinic_phrase(value: Any) -> str:
    """Every snake_case word of a phrase in the clinic's word: ``last g_csf dose`` -> ``last G-CSF dose``."""
    text = "" if value is None else str(value)
    return re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", lambda m: clinic_word(m.group(0)), text)


def verdict(status: Any, kind: Any = "inclusion") -> str:
    """A criterion's status from the patient's side: ``verdict("met", "exclusion")`` -> ``no exclusion``."""
    words = VERDICTS.get(str(kind), VERDICTS["inclusion"])
    said = words.get(str(status))
    return str(status) if said is None else str(said)
