"""The protocol as data: one versioned definition of NCT01370330, loaded from ``nct01370330.json``."""

from mibg.protocol.loader import load_protocol, protocol_as_dict
from mibg.protocol.model import (
    Constant,
    Criterion,
    Decision,
    DoseLimit,
    Preparation,
    ProtocolDefinition,
    Quantity,
    Translation,
)

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
