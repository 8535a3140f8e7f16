"""Protocol limits as the screens word them, read from the protocol definition (never typed into a template)."""

from __future__ import annotations

from mibg.protocol import ProtocolDefinition, load_protocol


def dose_range(protocol: ProtocolDefinition | None = None) -> str:
    limit = (protocol or load_protocol()).dose_limit("R1")
    low, high = limit.quantity("minimum_mci_per_kg"), limit.quantity("maximum_mci_per_kg")
    return f"protocol range {low.value}-{high.value} {high.unit} (R1, decisions.md A1)"


def specific_activity(protocol: ProtocolDefinition | None = None) -> str:
    preparations = (protocol or load_protocol()).preparations
    lsa = preparations["draximage"].specific_activity
    azedra = preparations["azedra"].specific_activity
    return (f"DraxImage: required, {lsa['minimum']}-{lsa['maximum']} {lsa['unit']}. AZEDRA: the lot certificate's "
            f"value, or empty for the label's {azedra['value']} {azedra['unit']}")


def final_volume(protocol: ProtocolDefinition | None = None) -> str:
    limit = (protocol or load_protocol()).dose_limit("R4")
    return f"{limit.quantity('minimum_ml').value}-{limit.quantity('maximum_ml').value} mL (R4)"


def infusion_durations(protocol: ProtocolDefinition | None = None) -> str:
    preparations = (protocol or load_protocol()).preparations
    parts = [f"{'AZEDRA' if key == 'azedra' else 'DraxImage'} {p.infusion_minimum_min}-{p.infusion_maximum_min} min"
             for key, p in preparations.items()]
    return ", ".join(parts) + " (R6)"


def cumulative_maximum(protocol: ProtocolDefinition | None = None) -> str:
    quantity = (protocol or load_protocol()).dose_limit("T5").quantity("maximum_cumulative_mci_per_kg")
    return f"{quantity.value} {quantity.unit}"
