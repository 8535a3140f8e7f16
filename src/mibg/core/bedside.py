"""The patient check at the bedside before the administration (decisions.md A36).

The patient is identified by two identifiers checked against the written directive's patient: the name, and
the date of birth or the MRN. Every identifier given must match; a mismatch stops the administration and
names the identifier, so the nurse checks the wristband again.

- Names match when they have the same words, whatever their order, case, commas and spaces ("Ava Martin",
  "MARTIN, Ava"). Product choice: no other spelling is accepted.
- MRNs match when they differ only in spaces or case (decisions.md A34).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from mibg.core.errors import InputError

REFERENCE = "decisions.md A36"


@dataclass(frozen=True, slots=True)
class Identity:
    """The directive's patient."""

    given_name: str
    family_name: str
    birth_date: date
    mrn: str


def _words(name: str) -> list[str]:
    return sorted(w for w in re.split(r"[\s,]+", name.casefold()) if w)


def _mrn(mrn: str) -> str:
    return re.sub(r"\s+", "", mrn).upper()


def check_two_identifiers(patient: Identity, name: str, birth_date: date | None, mrn: str) -> None:
    """Refuse (InputError naming the identifier) unless the name and the date of birth or the MRN match."""
    if not name.strip():
        raise InputError("patient_name", f"the patient's name, as read on the wristband, is the first identifier ({REFERENCE})")
    if birth_date is None and not mrn.strip():
        raise InputError("patient_birth_date", f"a second identifier is needed: the date of birth or the MRN, as read on "
                                               f"the wristband ({REFERENCE})")
    stop = "does not match the patient of the written directive: stop, and identify the patient again"
    if _words(name) != _words(f"{patient.given_name} {patient.family_name}"):
        raise InputError("patient_name", f"{stop} ({REFERENCE})")
    if birth_date is not None and birth_date != patient.birth_date:
        raise InputError("patient_birth_date", f"{stop} ({REFERENCE})")
    if mrn.strip() and _mrn(mrn) != _mrn(patient.mrn):
        raise InputError("patient_mrn", f"{stop} ({REFERENCE})")


__all__ = ["Identity", "check_two_identifiers"]
