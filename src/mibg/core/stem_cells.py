"""One stem-cell status for dosing and eligibility (clinical-reference §1.3 S1-S3; decisions.md A2, A15, A24).

Stored stem cells are adequate when the peripheral blood product holds at least the minimum CD34+ cells per kg,
or the marrow product at least the minimum mononuclear cells per kg (S2's ``minimum_cd34_per_kg`` 1 x 10^6 and
``minimum_mnc_per_kg`` 1 x 10^8); they are at the optimum above S2's ``optimum_*`` figures ("optimum > 2 x 10^6"
is written with ">"). The per-kg figures are the caller's: every stored, not infused product of one kind summed,
per kg of the current weight (A20, A24; :func:`mibg.core.dosing.stem_cells_per_kg`). The dose planner
(:mod:`mibg.core.dosing`) and the screening (:mod:`mibg.core.eligibility`) both judge adequacy here, so a
product cannot be adequate for one and not for the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mibg.protocol import ProtocolDefinition, load_protocol


@dataclass(frozen=True, slots=True)
class StemCellStatus:
    cd34_per_kg: Decimal | None
    mnc_per_kg: Decimal | None
    minimum_cd34_per_kg: Decimal
    minimum_mnc_per_kg: Decimal
    optimum_cd34_per_kg: Decimal
    optimum_mnc_per_kg: Decimal

    @property
    def adequate(self) -> bool:
        return ((self.cd34_per_kg is not None and self.cd34_per_kg >= self.minimum_cd34_per_kg)
                or (self.mnc_per_kg is not None and self.mnc_per_kg >= self.minimum_mnc_per_kg))

    @property
    def at_optimum(self) -> bool:
        return ((self.cd34_per_kg is not None and self.cd34_per_kg > self.optimum_cd34_per_kg)
                or (self.mnc_per_kg is not None and self.mnc_per_kg > self.optimum_mnc_per_kg))

    @property
    def description(self) -> str:
        """``PBSC 3.000E+6 CD34+/kg (minimum 1.0E+6, optimum > 2E+6)``, or that there is no stored product."""
        parts = []
        if self.cd34_per_kg is not None:
            parts.append(f"PBSC {self.cd34_per_kg:.3E} CD34+/kg (minimum {self.minimum_cd34_per_kg:.1E}, "
                         f"optimum > {self.optimum_cd34_per_kg:.0E})")
        if self.mnc_per_kg is not None:
            parts.append(f"marrow {self.mnc_per_kg:.3E} MNC/kg (minimum {self.minimum_mnc_per_kg:.1E}, "
                         f"optimum > {self.optimum_mnc_per_kg:.0E})")
        return "; ".join(parts) if parts else "no stored stem-cell product"


def stem_cell_status(cd34_per_kg: Decimal | None, mnc_per_kg: Decimal | None,
                     protocol: ProtocolDefinition | None = None) -> StemCellStatus:
    """The status of the stored products with these per-kg figures (None: no product of that kind)."""
    gate = (protocol or load_protocol()).dose_limit("S2")
    return StemCellStatus(cd34_per_kg, mnc_per_kg,
                          gate.quantity("minimum_cd34_per_kg").value, gate.quantity("minimum_mnc_per_kg").value,
                          gate.quantity("optimum_cd34_per_kg").value, gate.quantity("optimum_mnc_per_kg").value)


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "StemCellStatus",
    "stem_cell_status",
]
