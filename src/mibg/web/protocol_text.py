"""Protocol limits as the screens word them, read from the protocol definition (never typed into a template)."""

from __future__ import annotations

from mibg.core.plausibility import plausible_range
from mibg.protocol import ProtocolDefinition, load_protocol


def dose_range(protocol: ProtocolDefinition | None = None) -> str:
    limit = (protocol or load_protocol()).dose_limit("R1")
    low, high = limit.quantity("minimum_mci_per_kg"), limit.quantity("maximum_mci_per_kg")
    return f"protocol range {low.value}-{high.value} {high.unit} (R1, decisions.md A1)"


def specific_activity(protocol: ProtocolDefinition | None = None) -> str:
    parts = []
    for p in (protocol or load_protocol()).preparations.values():
        sa = p.specific_activity
        if p.specific_activity_required:
            parts.append(f"{p.label}: required, {sa['minimum']}-{sa['maximum']} {sa['unit']}")
        else:
            parts.append(f"{p.label}: the lot certificate's value, or empty for the label's {sa['value']} {sa['unit']}")
    return ". ".join(sorted(parts, key=lambda text: not text.split(": ")[1].startswith("required")))


def stock_concentration(protocol: ProtocolDefinition | None = None) -> str:
    """decisions.md A38: what to enter, the label value each preparation falls back to, the plausible range."""
    definition = protocol or load_protocol()
    parts = []
    for p in definition.preparations.values():
        label = p.concentration_at_calibration
        parts.append(f"{p.label}: empty for the label's {label.value} {label.unit}" if label is not None
                     else f"{p.label}: needed for the volume to draw")
    limits = plausible_range("stock_concentration_mci_per_ml", definition)
    return (f"the stock's activity concentration at its calibration time (decisions.md A38). {'. '.join(parts)}. "
            f"Plausible {limits.minimum}-{limits.maximum} {limits.unit}")


def final_volume(protocol: ProtocolDefinition | None = None) -> str:
    limit = (protocol or load_protocol()).dose_limit("R4")
    return f"{limit.quantity('minimum_ml').value}-{limit.quantity('maximum_ml').value} mL (R4)"


def infusion_durations(protocol: ProtocolDefinition | None = None) -> str:
    preparations = (protocol or load_protocol()).preparations
    parts = [f"{p.label} {p.infusion_minimum_min}-{p.infusion_maximum_min} min" for p in preparations.values()]
    return ", ".join(parts) + " (R6)"


def cumulative_maximum(protocol: ProtocolDefinition | None = None) -> str:
    quantity = (protocol or load_protocol()).dose_limit("T5").quantity("maximum_cumulative_mci_per_kg")
    return f"{quantity.value} {quantity.unit}"
