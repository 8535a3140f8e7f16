"""Independent verification of a written directive (10 CFR 35.41).

A second person enters the patient's weight and the prescribed mCi/kg again, without seeing the first
calculation. The two are accepted only when they are equal as exact decimals (19.35 and 19.350 are the same
number; 19.35 and 19.4 are not) and the activity recomputed from the second entry equals the directive's
activity. Nobody verifies their own directive.

decisions.md A36: the verifier signs (password re-entry, at the door); a mismatch says only that the entries
differ, never which one nor the directive's values, so the next attempt stays independent (``differing`` is kept
for the authorised user's review, not shown to the verifier); after ``verification_max_mismatches`` (3)
mismatches on one directive the verification is stopped and the discrepancy goes to the authorised user.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mibg.core.errors import InputError
from mibg.core.serial import JSON, Reader, ShapeError, dec, envelope
from mibg.core.units import parse_decimal, parse_weight_kg
from mibg.protocol import ProtocolDefinition, load_protocol


@dataclass(frozen=True, slots=True)
class Prescription:
    """The numbers a directive (or a verifier) states."""

    weight_kg: Decimal
    mci_per_kg: Decimal
    activity_mci: Decimal


@dataclass(frozen=True, slots=True)
class VerificationResult:
    accepted: bool
    differing: tuple[str, ...]  # field names only: values are not revealed (independence)
    second_activity_mci: Decimal
    message: str

    def to_json(self) -> JSON:
        """The verification's one exact shape (mibg.core.serial); ``accepted`` is checked against ``differing``."""
        return {**envelope(VERIFICATION_SCHEMA, VERIFICATION_VERSION), "accepted": self.accepted,
                "differing": list(self.differing), "second_activity_mci": dec(self.second_activity_mci),
                "message": self.message}

    @classmethod
    def from_json(cls, data: object, path: str = "verification") -> VerificationResult:
        r = Reader.result(data, VERIFICATION_SCHEMA, VERIFICATION_VERSION, path)
        differing = r.texts("differing")
        unknown = [name for name in differing if name not in FIELD_LABELS]
        if unknown:
            raise ShapeError(f"{path}.differing", f"{', '.join(unknown)} is not a verified field")
        r.check("accepted", not differing)
        return cls(not differing, differing, r.decimal("second_activity_mci"), r.text("message"))


VERIFICATION_SCHEMA = "mibg.verification"
VERIFICATION_VERSION = 1


FIELD_LABELS = {"weight_kg": "weight (kg)", "mci_per_kg": "dose (mCi/kg)", "activity_mci": "activity (mCi)"}


def second_entry(weight_kg: object, mci_per_kg: object) -> Prescription:
    """Parse what the verifier typed; :class:`InputError` names the field."""
    weight = parse_weight_kg(weight_kg)
    dose = parse_decimal("mci_per_kg", mci_per_kg, minimum=Decimal(0), allow_zero=False, unit="mCi/kg")
    return Prescription(weight, dose, weight * dose)


def verify(directive: Prescription, *, signed_by: str, verifier: str, weight_kg: object, mci_per_kg: object) -> VerificationResult:
    """Compare the verifier's entry with the directive. Raises :class:`InputError` for bad input or self-verification."""
    if not signed_by or not verifier:
        raise InputError("verifier", "both the signer and the verifier must be known")
    if signed_by == verifier:
        # 10 CFR 35.41: the verification is independent; the person who signed cannot check their own directive.
        raise InputError("verifier", "the person who signed the directive cannot verify it: another physicist or "
                                     "pharmacist must")
    second = second_entry(weight_kg, mci_per_kg)
    differing = tuple(
        name for name in ("weight_kg", "mci_per_kg", "activity_mci")
        if getattr(second, name) != getattr(directive, name)
    )
    if differing:
        # A36: not which entry differs (a verifier told "the weight" could adjust it without a source record).
        message = ("The entries differ from the written directive. Nothing was accepted; check the source records "
                   "and enter both values again, or ask the authorised user to review the directive.")
    else:
        message = "Matches the written directive exactly: weight, dose per kg and activity."
    return VerificationResult(not differing, differing, second.activity_mci, message)


@dataclass(frozen=True, slots=True)
class VerificationStop:
    """After ``limit`` mismatches on one directive the verification stops (decisions.md A36)."""

    mismatches: int
    limit: int

    @property
    def stopped(self) -> bool:
        return self.mismatches >= self.limit

    @property
    def attempts_left(self) -> int:
        return max(self.limit - self.mismatches, 0)

    @property
    def message(self) -> str:
        return (f"The verification is stopped after {self.mismatches} entries that differ from the written directive "
                f"(at most {self.limit}, decisions.md A36): the discrepancy goes to the authorised user, who reviews the "
                "directive and the source records; a new signed version of the directive (with the reason) starts the "
                "verification again.")


def verification_stop(mismatches: int, protocol: ProtocolDefinition | None = None) -> VerificationStop:
    protocol = protocol or load_protocol()
    return VerificationStop(mismatches, int(protocol.site("verification_max_mismatches")))


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "FIELD_LABELS",
    "VERIFICATION_SCHEMA",
    "VERIFICATION_VERSION",
    "Prescription",
    "VerificationResult",
    "VerificationStop",
    "second_entry",
    "verification_stop",
    "verify",
]
