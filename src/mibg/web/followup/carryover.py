"""What the next course's screening carries over from follow-up: the stored stem-cell products, minus the cells
given back since (decisions.md A15: stored as total cells).

A stem-cell infusion is recorded by the radiation-safety app in cells per kg of the course's weight (the weight of
its signed written directive), so the cells given = cells/kg x that weight. The infusion names its product as
labelled; it is taken from the stored product of the same type with the same label. When no label matches, the
cells are taken from **every** stored product of that type and the label says so: the stored cells are never
overstated (an overstated product could let a dose above 12 mCi/kg pass, A2), and the coordinator corrects the
figures on the screening form.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.utils import timezone

from mibg.core.vocabulary import StemCellProductType

_COUNT = {StemCellProductType.PBSC.value: "total_cd34_cells", StemCellProductType.BONE_MARROW.value: "total_mononuclear_cells"}


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def remaining_stem_cell_products(patient: Any, products: list[dict[str, Any]], *, from_course: int,
                                 before_course: int) -> list[dict[str, Any]]:
    """``products`` (snapshot JSON of the course numbered ``from_course``, taken before its infusion) minus the
    stem cells infused in the patient's courses ``from_course`` up to ``before_course`` (excluded). A product
    used up is left out."""
    if not apps.is_installed("mibg.web.radiation"):
        return products
    from mibg.web.radiation.models import StemCellInfusion
    from mibg.web.treatment.models import Administration

    infusions = list(StemCellInfusion.objects.filter(course__patient=patient, course__number__gte=from_course,
                                                     course__number__lt=before_course).order_by("infused_at", "id"))
    if not infusions:
        return products
    weights = {a.course_id: a.directive.weight_kg for a in Administration.objects.filter(
        course_id__in={i.course_id for i in infusions}).select_related("directive").order_by("started_at")}
    remaining = [dict(p) for p in products]
    for infusion in infusions:
        weight = weights.get(infusion.course_id)
        if weight is None:
            continue
        given = Decimal(infusion.cells_per_kg) * weight
        key = _COUNT[infusion.product_type]
        day = timezone.localtime(infusion.infused_at).date().isoformat()
        same_type = [p for p in remaining if p.get("product_type") == infusion.product_type and _cells(p) is not None]
        matched = [p for p in same_type if _same(str(p.get("label", "")), infusion.product)]
        for p in matched or same_type:
            left = (_cells(p) or Decimal(0)) - given
            p[key] = str(max(left, Decimal(0)))
            note = (f"{given:.2E} cells of '{infusion.product}' infused {day}" if matched else
                    f"reduced by {given:.2E} cells of '{infusion.product}' infused {day}, which matches no stored "
                    f"label: check")
            p["label"] = f"{p.get('label', '')} ({note})".strip()
    return [p for p in remaining if (cells := _cells(p)) is None or cells > 0]


def _cells(product: dict[str, Any]) -> Decimal | None:
    """The product's total count (CD34+ or mononuclear cells), None when it has none."""
    raw = product.get(_COUNT.get(str(product.get("product_type")), ""))
    return None if raw is None else Decimal(str(raw))
