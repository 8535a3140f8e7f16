"""The protocol as data: one versioned definition of NCT01370330, loaded from ``nct01370330.json``."""

from typing import TYPE_CHECKING, Any

from mibg.protocol.loader import load_protocol, protocol_as_dict
from mibg.protocol.model import (
    Constant,
    Criterion,
    Decision,
    DoseLimit,
    Preparation,
    ProtocolDefinition,
    Quantity,
)

if TYPE_CHECKING:
    from mibg.protocol.sections import Translation


def __getattr__(name: str) -> Any:
    """``Translation`` lives with the sections parsed when first read (mibg.protocol.sections), imported when asked for."""
    if name == "Translation":
        from mibg.protocol.sections import Translation

        return Translation
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
