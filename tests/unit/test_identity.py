"""decisions.md A34 in the core: a patient's identity is checked the same way at every door.

MRN trimmed, compared upper-cased without spaces, 1 to 40 characters; names 1 to 100 characters after trimming.
"""

from __future__ import annotations

from datetime import date

import pytest

from mibg.core.errors import InputError
from mibg.core.identity import check_identity, identity_problems, mrn_key
from mibg.core.vocabulary import Sex

TODAY = date(2026, 12, 3)
ADA = {"mrn": "UCSF-0001", "family_name": "Brown", "given_name": "Ada", "birth_date": "2018-03-04", "sex": "female"}


def test_nora_enters_ada_and_her_identity_comes_back_trimmed():
    identity = check_identity({**ADA, "mrn": "  UCSF-0001 ", "family_name": " Brown "}, TODAY)
    assert (identity.mrn, identity.family_name, identity.birth_date, identity.sex) == (
        "UCSF-0001", "Brown", date(2018, 3, 4), Sex.FEMALE)


@pytest.mark.parametrize(("a", "b"), [("DEMO-1006", "DEMO-1006 "), ("DEMO-1006", "demo-1006"),
                                      ("DEMO-1006", " demo - 1006"), ("ab12", "AB\t12")])
def test_two_mrns_that_differ_only_in_spaces_or_case_are_the_same_patient(a, b):
    assert mrn_key(a) == mrn_key(b)


def test_two_mrns_that_differ_in_a_character_are_two_patients():
    assert mrn_key("DEMO-1006") != mrn_key("DEMO-1007")
    assert mrn_key("DEMO-1006") != mrn_key("DEMO1006-")


@pytest.mark.parametrize(("length", "accepted"), [(0, False), (1, True), (39, True), (40, True), (41, False), (70, False)])
def test_an_mrn_has_1_to_40_characters_after_trimming(length, accepted):
    values = {**ADA, "mrn": "  " + "M" * length + "  "}
    if accepted:
        assert check_identity(values, TODAY).mrn == "M" * length
    else:
        with pytest.raises(InputError) as refused:
            check_identity(values, TODAY)
        assert refused.value.field == "mrn"


@pytest.mark.parametrize("field", ["family_name", "given_name"])
@pytest.mark.parametrize(("length", "accepted"), [(0, False), (1, True), (99, True), (100, True), (101, False),
                                                  (5000, False)])
def test_a_name_has_1_to_100_characters_after_trimming(field, length, accepted):
    values = {**ADA, field: " " + "n" * length + " "}
    if accepted:
        assert getattr(check_identity(values, TODAY), field) == "n" * length
    else:
        with pytest.raises(InputError) as refused:
            check_identity(values, TODAY)
        assert refused.value.field == field


@pytest.mark.parametrize("blank", ["", "   ", "\t", None])
def test_a_blank_mrn_is_refused_naming_the_mrn(blank):
    with pytest.raises(InputError) as refused:
        check_identity({**ADA, "mrn": blank}, TODAY)
    assert refused.value.field == "mrn"


def test_a_name_with_a_line_break_inside_is_refused():
    with pytest.raises(InputError) as refused:
        check_identity({**ADA, "family_name": "Bro\nwn"}, TODAY)
    assert refused.value.field == "family_name"


@pytest.mark.parametrize(("born", "field"), [("2026-12-04", "birth_date"), ("1899-12-31", "birth_date"),
                                             ("2026-02-30", "birth_date"), ("", "birth_date")])
def test_an_impossible_date_of_birth_is_refused_naming_it(born, field):
    with pytest.raises(InputError) as refused:
        check_identity({**ADA, "birth_date": born}, TODAY)
    assert refused.value.field == field


def test_a_date_of_birth_today_is_possible():
    assert check_identity({**ADA, "birth_date": "2026-12-03"}, TODAY).birth_date == TODAY


def test_an_unknown_sex_code_is_refused_naming_the_sex():
    with pytest.raises(InputError) as refused:
        check_identity({**ADA, "sex": "F"}, TODAY)
    assert refused.value.field == "sex"


def test_the_form_is_told_every_problem_at_once():
    problems = identity_problems({"mrn": " ", "family_name": "x" * 101, "given_name": "Ada", "birth_date": "3000-01-01",
                                  "sex": "female"}, TODAY)
    assert set(problems) == {"mrn", "family_name", "birth_date"}
