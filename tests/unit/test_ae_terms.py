"""The CTCAE v5.0 term list adverse events are recorded with (issue 15; decisions.md A18)."""

from __future__ import annotations

import pytest

from mibg.core.ae_terms import ae_terms, check_term, is_ctcae_term, term_for_lab
from mibg.core.ctcae import load_ctcae
from mibg.core.errors import InputError


def test_a_nurse_typing_tummy_ache_is_told_the_term_field_is_not_a_ctcae_term():
    with pytest.raises(InputError) as refused:
        check_term("tummy ache")
    assert refused.value.field == "term"
    assert "not a CTCAE v5.0 term" in refused.value.message


def test_the_fhir_import_names_its_own_field_when_it_refuses_a_term():
    with pytest.raises(InputError) as refused:
        check_term("Thrombocytopenia", "event.text")  # a MedDRA synonym, not the CTCAE term
    assert refused.value.field == "event.text"


def test_an_exact_ctcae_term_is_accepted_with_its_meddra_code():
    # MedDRA 10035528 for Platelet count decreased, as written in ctcae_v5.json (unverified against the v5.0 text).
    term = check_term("Platelet count decreased")
    assert term.meddra_code == "10035528"
    assert term.label == "Platelet count decreased (MedDRA 10035528)"


def test_every_graded_lab_row_has_its_adverse_event_term_with_the_same_grade_texts():
    for key, row in load_ctcae().terms.items():
        term = term_for_lab(key)
        assert term is not None, key
        assert term.name == row.name
        assert [(g.grade, g.text) for g in term.grades] == [(b.grade, b.text) for b in row.bands]


def test_every_term_states_its_source_and_whether_it_was_checked_against_the_v5_text():
    for term in ae_terms().values():
        assert "CTCAE v5.0" in term.source, term.name
        assert term.status == "unverified against the v5.0 text", term.name
        assert term.grades, term.name
        assert all(1 <= g.grade <= 5 for g in term.grades), term.name


def test_the_terms_after_131i_mibg_are_on_the_list_and_free_text_is_not():
    for name in ("Febrile neutropenia", "Nausea", "Vomiting", "Hypothyroidism", "Salivary duct inflammation",
                 "Myelodysplastic syndrome", "Sepsis", "Hypertension"):
        assert is_ctcae_term(name), name
    assert not is_ctcae_term("tummy ache")
    assert not is_ctcae_term("")


def test_febrile_neutropenia_starts_at_grade_3_as_ctcae_defines_it():
    # CTCAE v5.0: febrile neutropenia has no grade 1 or 2 (ANC <1000/mm3 with fever is grade 3).
    assert [g.grade for g in check_term("Febrile neutropenia").grades] == [3, 4, 5]
