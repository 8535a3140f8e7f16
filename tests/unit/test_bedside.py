"""Nora identifies the patient at the bedside by two identifiers before the administration (decisions.md A36)."""

from datetime import date

import pytest

from mibg.core.bedside import Identity, check_two_identifiers
from mibg.core.errors import InputError

AVA = Identity("Ava", "Martin", date(2020, 3, 4), "DEMO-1001")


@pytest.mark.parametrize(("name", "birth", "mrn"), [
    ("Ava Martin", date(2020, 3, 4), ""),
    ("MARTIN, Ava", None, "demo-1001"),
    ("  martin   ava ", date(2020, 3, 4), " DEMO-1001 "),  # spaces and case only (A34)
])
def test_nora_reads_the_name_and_the_date_of_birth_or_the_mrn_and_they_match(name, birth, mrn):
    check_two_identifiers(AVA, name, birth, mrn)


@pytest.mark.parametrize(("name", "birth", "mrn", "field"), [
    ("", date(2020, 3, 4), "", "patient_name"),  # no first identifier
    ("Ava Martin", None, "", "patient_birth_date"),  # only one identifier
    ("Eva Martin", date(2020, 3, 4), "", "patient_name"),
    ("Ava Martin", date(2020, 3, 5), "", "patient_birth_date"),  # a day off
    ("Ava Martin", None, "DEMO-1011", "patient_mrn"),
    ("Ava Martin", date(2020, 3, 4), "DEMO-1002", "patient_mrn"),  # every identifier given must match
])
def test_a_wrong_or_missing_identifier_stops_the_administration_naming_it(name, birth, mrn, field):
    with pytest.raises(InputError) as error:
        check_two_identifiers(AVA, name, birth, mrn)
    assert error.value.field == field
    assert "A36" in error.value.message
