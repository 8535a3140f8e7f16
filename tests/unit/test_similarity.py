"""Why two trial records are alike (issue 13 §5, mibg.core.similarity): the points and the reasons, by hand.

Points: 30 per shared condition (at most 60), 20 per shared intervention (at most 40), 2 per shared eligibility
term (at most 20), 10 for the same phase.
"""

from __future__ import annotations

from mibg.core.similarity import compare, facts, rank, terms


def _record(nct, *, conditions=(), interventions=(), eligibility="x", phases=None, study_type="INTERVENTIONAL"):
    design = {"studyType": study_type}
    if phases:
        design["phases"] = list(phases)
    return {"protocolSection": {
        "identificationModule": {"nctId": nct, "briefTitle": f"Trial {nct}"},
        "conditionsModule": {"conditions": list(conditions)},
        "armsInterventionsModule": {"interventions": [{"name": n, "otherNames": list(o)} for n, o in interventions]},
        "eligibilityModule": {"eligibilityCriteria": eligibility}, "designModule": design}}


TARGET = facts(_record("NCT01370330", conditions=["Neuroblastoma"],
                       interventions=[("Metaiodobenzylguanidine (MIBG)", ["131I-MIBG"])],
                       eligibility="Refractory neuroblastoma; autologous stem cells available; creatinine below 2",
                       phases=["PHASE2"]))


def test_a_trial_sharing_the_condition_the_drug_by_another_name_three_terms_and_the_phase_scores_76():
    other = facts(_record("NCT00000001", conditions=["Neuroblastoma"],
                          interventions=[("Iobenguane I-131", ["131I-MIBG"])],
                          eligibility="Relapsed neuroblastoma with stem cells available", phases=["PHASE2"]))
    similarity = compare(TARGET, other)
    # shared terms: neuroblastoma, stem, cells, available -> 4 x 2 = 8; 30 + 20 + 8 + 10 = 68
    assert similarity.shared_terms == ("available", "cells", "neuroblastoma", "stem")
    assert similarity.score == 68
    assert similarity.reasons == (
        "shared conditions: neuroblastoma",
        "shared interventions: metaiodobenzylguanidine mibg / 131i-mibg",
        "shared eligibility terms: available, cells, neuroblastoma, stem",
        "same phase: phase2")


def test_shared_eligibility_terms_count_at_most_twenty_points_and_conditions_at_most_sixty():
    many = " ".join(f"term{n:02d}x" for n in range(15))
    target = facts(_record("NCT00000010", conditions=["A disease", "B disease", "C disease"], eligibility=many))
    other = facts(_record("NCT00000011", conditions=["A disease", "B disease", "C disease"], eligibility=many))
    similarity = compare(target, other)
    # 3 conditions x 30 = 90 -> capped at 60; 15 terms x 2 = 30 -> capped at 20
    assert similarity.score == 80
    assert similarity.reasons[1].endswith("and 7 more")  # 8 terms shown of 15


def test_a_trial_sharing_nothing_is_left_out_and_the_target_itself_never_listed():
    unrelated = facts(_record("NCT00000002", conditions=["Asthma"], interventions=[("Salbutamol", [])],
                              eligibility="Asthma since childhood"))
    itself = facts(_record("NCT01370330", conditions=["Neuroblastoma"]))
    assert compare(TARGET, unrelated).score == 0
    assert rank(TARGET, [(unrelated, 1.0), (itself, 2.0)], 10) == []


def test_equal_scores_keep_the_engines_order_then_the_nct_number():
    a = facts(_record("NCT00000005", conditions=["Neuroblastoma"]))
    b = facts(_record("NCT00000004", conditions=["Neuroblastoma"]))
    c = facts(_record("NCT00000003", conditions=["Neuroblastoma"]))
    ranked = rank(TARGET, [(a, 1.0), (b, 3.0), (c, 1.0)], 10)
    assert [s.nct_id for s in ranked] == ["NCT00000004", "NCT00000003", "NCT00000005"]
    assert rank(TARGET, [(a, 1.0), (b, 3.0), (c, 1.0)], 2)[-1].nct_id == "NCT00000003"


def test_expanded_access_records_share_a_phase_and_generic_words_make_no_intervention_alike():
    target = facts(_record("NCT00000020", study_type="EXPANDED_ACCESS", interventions=[("Radiation therapy", [])]))
    other = facts(_record("NCT00000021", study_type="EXPANDED_ACCESS", interventions=[("Standard therapy", [])]))
    similarity = compare(target, other)
    assert similarity.shared_interventions == ()
    assert similarity.score == 10  # the phase only


def test_eligibility_terms_drop_grammar_boilerplate_short_words_and_numbers():
    assert terms("Patients must have a creatinine <= 2 mg/dL within 7 days and 131I-MIBG uptake") == {
        "creatinine", "131i-mibg", "uptake"}
