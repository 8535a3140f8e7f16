"""Sam the physicist verifies Dr Patel's directive by entering weight and mCi/kg again (10 CFR 35.41)."""

from decimal import Decimal

import pytest

from mibg.core.errors import InputError
from mibg.core.verification import Prescription, verify

DIRECTIVE = Prescription(Decimal("22.000"), Decimal("18.000"), Decimal("396.000000"))


def test_sam_the_physicist_is_accepted_when_both_values_match_exactly_as_decimals():
    result = verify(DIRECTIVE, signed_by="patel", verifier="sam", weight_kg="22", mci_per_kg="18.0")
    assert result.accepted
    assert result.differing == ()
    assert result.second_activity_mci == Decimal("396")


def test_sam_is_refused_when_the_weight_differs_by_a_tenth_and_is_not_shown_the_directive_value():
    result = verify(DIRECTIVE, signed_by="patel", verifier="sam", weight_kg="22.1", mci_per_kg="18")
    assert not result.accepted
    assert result.differing == ("weight_kg", "activity_mci")
    assert "22.000" not in result.message
    assert "396" not in result.message


def test_a_dose_that_differs_in_the_third_decimal_is_refused():
    result = verify(DIRECTIVE, signed_by="patel", verifier="sam", weight_kg="22", mci_per_kg="18.001")
    assert not result.accepted
    assert "mci_per_kg" in result.differing


def test_dr_patel_cannot_verify_her_own_directive():
    with pytest.raises(InputError) as error:
        verify(DIRECTIVE, signed_by="patel", verifier="patel", weight_kg="22", mci_per_kg="18")
    assert error.value.field == "verifier"


@pytest.mark.parametrize(("weight", "dose", "field"), [("abc", "18", "weight_kg"), ("22", "", "mci_per_kg"),
                                                       ("0", "18", "weight_kg"), ("22", "-1", "mci_per_kg")])
def test_bad_input_names_the_field(weight, dose, field):
    with pytest.raises(InputError) as error:
        verify(DIRECTIVE, signed_by="patel", verifier="sam", weight_kg=weight, mci_per_kg=dose)
    assert error.value.field == field


def test_a_float_is_refused_rather_than_compared():
    with pytest.raises(InputError):
        verify(DIRECTIVE, signed_by="patel", verifier="sam", weight_kg=22.0, mci_per_kg="18")


def test_sam_s_mismatch_says_the_entries_differ_but_not_which_one():
    # decisions.md A36: "a mismatch says that the entries differ, not which one"
    result = verify(DIRECTIVE, signed_by="patel", verifier="sam", weight_kg="22.1", mci_per_kg="18")
    assert "The entries differ from the written directive" in result.message
    for word in ("weight", "kg", "dose", "activity", "22", "18"):
        assert word not in result.message


@pytest.mark.parametrize(("mismatches", "stopped", "left"), [(2, False, 1), (3, True, 0), (4, True, 0), (0, False, 3)])
def test_the_verification_stops_at_the_third_mismatch_and_goes_to_the_authorised_user(mismatches, stopped, left):
    from mibg.core.verification import verification_stop

    stop = verification_stop(mismatches)
    assert stop.stopped is stopped
    assert stop.attempts_left == left
    assert "authorised user" in stop.message
