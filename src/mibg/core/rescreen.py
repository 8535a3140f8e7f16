"""Re-screening the programme: which criterion verdicts a new screening changes (issue 14).

After a protocol amendment or a site-parameter change, every open course is screened again on the snapshot of its
latest evaluation, and each criterion's new verdict is compared with the stored one. This module compares; the
screening service (``mibg.web.screening.services.rescreen_programme``) reads the courses and screens them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mibg.core.eligibility import EligibilityResult
from mibg.core.serial import JSON
from mibg.protocol import ProtocolDefinition

#: Shown for a criterion one of the two screenings did not have (added or removed by an amendment).
ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """One criterion whose verdict differs: ``old`` as stored, ``new`` as screened now (``absent``: not in it)."""

    criterion: str
    title: str
    old: str
    new: str

    def to_json(self) -> JSON:
        return {"criterion": self.criterion, "title": self.title, "old": self.old, "new": self.new}


def verdict_changes(old: Mapping[str, str], new: EligibilityResult, protocol: ProtocolDefinition,
                    old_titles: Mapping[str, str] | None = None) -> tuple[VerdictChange, ...]:
    """The criteria whose verdict in ``new`` differs from ``old`` (criterion ID -> status as stored), in the
    protocol's order, then the criteria only the old screening had. Reads verdicts only: no explanation is built."""
    titles = {c.id: c.title for c in protocol.criteria}
    changes = []
    seen = set()
    for verdict in new.verdicts:
        seen.add(verdict.id)
        before = old.get(verdict.id, ABSENT)
        if before != str(verdict.status):
            changes.append(VerdictChange(verdict.id, titles.get(verdict.id, ""), before, str(verdict.status)))
    for criterion_id, before in old.items():
        if criterion_id not in seen:
            changes.append(VerdictChange(criterion_id, (old_titles or {}).get(criterion_id, ""), before, ABSENT))
    return tuple(changes)


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "ABSENT",
    "VerdictChange",
    "verdict_changes",
]
