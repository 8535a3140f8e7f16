"""The calculations a clinician reads show rounded values; the plan's numbers stay exact."""

from decimal import Decimal

from mibg.core.dosing import DoseRequest, plan_dose


def test_the_mibg_mass_reads_to_a_tenth_of_a_microgram_while_the_plan_keeps_it_exact():
    # 30 kg x 18 mCi/kg = 540 mCi = 0.540 Ci; / 9 Ci/mmol = 0.060 mmol; x 275.09 mg/mmol = 16.5054 mg.
    plan = plan_dose(DoseRequest(weight_kg=Decimal(30), mci_per_kg=Decimal(18), cd34_per_kg=Decimal("3E6"),
                                 preparation="draximage", specific_activity_ci_per_mmol=Decimal(9)))
    shown = {c.name: c.value for c in plan.calculations}
    assert shown["MIBG mass"] == "16.5054"
    assert plan.mibg_mass_mg == Decimal("16.5054")


def test_a_mass_with_a_repeating_decimal_is_shown_to_four_places():
    # 24.5 kg x 19 mCi/kg = 465.5 mCi; 0.4655 Ci / 12 Ci/mmol = 0.0387916.. mmol; x 275.09 = 10.67120.. mg.
    plan = plan_dose(DoseRequest(weight_kg=Decimal("24.5"), mci_per_kg=Decimal(19), cd34_per_kg=Decimal("3E6"),
                                 preparation="draximage", specific_activity_ci_per_mmol=Decimal(12)))
    assert {c.name: c.value for c in plan.calculations}["MIBG mass"] == "10.6712"
