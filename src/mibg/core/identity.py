"""Who a patient is: the identity rules of decisions.md A34, the same at every door (form, API, import, command).

- The MRN is trimmed, 1 to 40 characters, and unique. It is compared upper-cased and without spaces
  (:func:`mrn_key`): two MRNs that differ only in spaces or case are the same patient ("DEMO-1006 " and
  "demo-1006" name the patient "DEMO-1006"), so a second record for them is a wrong-patient risk and is refused.
- The family and given names are 1 to 100 characters after trimming.
- The date of birth is not in the future and not before the plausible earliest (site parameter
  ``plausible_birth_year_min``, mibg.core.plausibility).
- The sex is one of :class:`mibg.core.vocabulary.Sex`.

Text holding a control character (a NUL, a line break, a tab...) is refused: it cannot be printed on a label or
a wristband as entered (product choice). Uniqueness needs the stored patients, so it is checked by the service
that stores them (mibg.web.patients.services), with :func:`mrn_key`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from mibg.core.errors import InputError
from mibg.core.plausibility import birth_date_problem
from mibg.core.units import parse_date
from mibg.core.vocabulary import Sex

#: decisions.md A34.
MRN_MAX_LENGTH = 40
NAME_MAX_LENGTH = 100
#: Why two MRNs are one patient: said wherever a clash is refused.
SAME_PATIENT = "MRNs that differ only in spaces or case are the same patient (decisions.md A34)"


def mrn_key(mrn: str) -> str:
    """The MRN as compared: every space removed, upper-cased. ``mrn_key(" demo 1006 ") == "DEMO1006"``."""
    return "".join(str(mrn).split()).upper()


@dataclass(frozen=True, slots=True)
class Identity:
    """A patient's identity after the A34 rules: trimmed text, a real date of birth, a known sex."""

    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: Sex

    @property
    def mrn_key(self) -> str:
        return mrn_key(self.mrn)

    def as_values(self) -> dict[str, object]:
        """The stored fields: ``mrn``, ``family_name``, ``given_name``, ``birth_date``, ``sex`` (its code)."""
        return {"mrn": self.mrn, "family_name": self.family_name, "given_name": self.given_name,
                "birth_date": self.birth_date, "sex": self.sex.value}


def _text(field: str, raw: object, maximum: int, what: str) -> str:
    if raw is None:
        raise InputError(field, f"the {what} is required")
    if not isinstance(raw, str):
        raise InputError(field, f"the {what} must be text")
    value = raw.strip()
    if not value:
        raise InputError(field, f"the {what} is required (it is blank)")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InputError(field, f"the {what} contains a control character (a line break, tab or NUL): retype it")
    if len(value) > maximum:
        raise InputError(field, f"the {what} has {len(value)} characters; at most {maximum} (decisions.md A34)")
    return value


def check_mrn(raw: object) -> str:
    """The MRN trimmed, or :class:`InputError` on ``mrn``."""
    return _text("mrn", raw, MRN_MAX_LENGTH, "medical record number (MRN)")


def check_family_name(raw: object) -> str:
    return _text("family_name", raw, NAME_MAX_LENGTH, "family name")


def check_given_name(raw: object) -> str:
    return _text("given_name", raw, NAME_MAX_LENGTH, "given name")


def check_birth_date(raw: object, today: date) -> date:
    """A date of birth (a ``date`` or ISO 8601 text) that is possible on ``today``."""
    if raw is None or raw == "":
        raise InputError("birth_date", "the date of birth is required")
    value = parse_date("birth_date", raw)
    problem = birth_date_problem(value, today)
    if problem:
        raise InputError("birth_date", problem)
    return value


def check_sex(raw: object) -> Sex:
    code = raw.value if isinstance(raw, Sex) else raw
    try:
        return Sex(str(code).strip() if code is not None else "")
    except ValueError:
        raise InputError("sex", f"'{code}' is not one of {', '.join(s.value for s in Sex)}") from None


_CHECKS = {
    "mrn": check_mrn,
    "family_name": check_family_name,
    "given_name": check_given_name,
}


def identity_problems(values: dict[str, object], today: date) -> dict[str, str]:
    """Every A34 problem of ``values`` by field (empty when none): forms show them all at once."""
    problems: dict[str, str] = {}
    for name, check in _CHECKS.items():
        try:
            check(values.get(name))
        except InputError as error:
            problems[name] = error.message
    try:
        check_sex(values.get("sex", Sex.UNKNOWN.value))
    except InputError as error:
        problems["sex"] = error.message
    try:
        check_birth_date(values.get("birth_date"), today)
    except InputError as error:
        problems["birth_date"] = error.message
    return problems


def check_identity(values: dict[str, object], today: date) -> Identity:
    """The A34 identity of ``values`` (``mrn``, ``family_name``, ``given_name``, ``birth_date``, ``sex``), or
    :class:`InputError` naming the first field that breaks a rule (in that order)."""
    return Identity(
        mrn=check_mrn(values.get("mrn")),
        family_name=check_family_name(values.get("family_name")),
        given_name=check_given_name(values.get("given_name")),
        birth_date=check_birth_date(values.get("birth_date"), today),
        sex=check_sex(values.get("sex", Sex.UNKNOWN.value)),
    )


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "MRN_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "SAME_PATIENT",
    "Identity",
    "check_birth_date",
    "check_family_name",
    "check_given_name",
    "check_identity",
    "check_mrn",
    "check_sex",
    "identity_problems",
    "mrn_key",
]
