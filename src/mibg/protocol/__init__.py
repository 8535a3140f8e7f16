"""The protocol as data: one versioned definition of NCT01370330, loaded from ``nct01370330.json``."""

from typing import TYPE_CHECKING, Any

from mibg.protocol.loader import load_protocol, protocol_as_dict
from mibg.protocol.model import (
    Constant,
    DoseLimit,
    Preparation,
    ProtocolDefinition,
    Quantity,
)

if TYPE_CHECKING:
    from mibg.protocol.sections import Criterion, Decision, Translation

#: Types of the sections parsed when first read (mibg.protocol.sections), imported when asked for.
_SECTION_TYPES = ("Criterion", "Decision", "Translation")


def __getattr__(name: str) -> Any:
    if name in _SECTION_TYPES:
        from mibg.protocol import sections

        return getattr(sections, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Constant",
    "Criterion",
    "Decision",
    "DoseLimit",
    "Preparation",
    "ProtocolDefinition",
    "Quantity",
    "Translation",
    "load_protocol",
    "protocol_as_dict",
]
