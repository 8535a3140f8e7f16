"""The course moves only forward, through the legal steps, and says why a step is refused."""

import pytest

from mibg.core.course_state import (
    ORDER,
    TRANSITIONS,
    CourseFacts,
    CourseState,
    TransitionRefused,
    apply,
    available,
)

ALL_TRUE = CourseFacts(eligible_evaluation=True, signed_directive=True, verification_accepted=True, assay_accepted=True,
                       administration_recorded=True, open_medical_event=False, reason_given=True)


def test_the_straight_line_runs_from_screening_to_closed_when_every_requirement_is_met():
    events = ["confirm_eligibility", "sign_directive", "verify", "accept_assay", "administer", "admit", "release",
              "start_follow_up", "close"]
    state = CourseState.SCREENING
    seen = [state]
    for event in events:
        state = apply(event, state, ALL_TRUE)
        seen.append(state)
    assert tuple(seen) == ORDER


def test_a_course_in_screening_cannot_jump_to_administered():
    with pytest.raises(TransitionRefused, match="not a legal step from 'Screening'"):
        apply("administer", CourseState.SCREENING, ALL_TRUE)


def test_eligibility_cannot_be_confirmed_while_the_evaluation_is_not_eligible():
    with pytest.raises(TransitionRefused, match="needs a latest screening evaluation that is eligible"):
        apply("confirm_eligibility", CourseState.SCREENING, CourseFacts())


def test_a_directive_cannot_be_verified_without_an_accepted_independent_check():
    with pytest.raises(TransitionRefused, match=r"35\.41"):
        apply("verify", CourseState.DIRECTIVE_SIGNED, CourseFacts(signed_directive=True))


def test_the_dose_is_not_accepted_when_the_assay_was_outside_tolerance_and_not_overridden():
    with pytest.raises(TransitionRefused, match=r"35\.63"):
        apply("accept_assay", CourseState.VERIFIED, CourseFacts())


def test_a_course_with_an_open_possible_medical_event_cannot_be_closed():
    with pytest.raises(TransitionRefused, match=r"35\.3045"):
        apply("close", CourseState.FOLLOW_UP, CourseFacts(open_medical_event=True))


@pytest.mark.parametrize("state", [CourseState.DIRECTIVE_SIGNED, CourseState.VERIFIED, CourseState.ASSAYED])
def test_a_revised_directive_returns_the_course_to_awaiting_verification(state):
    assert apply("revise_directive", state, ALL_TRUE) is CourseState.DIRECTIVE_SIGNED


def test_a_revision_needs_a_reason():
    with pytest.raises(TransitionRefused, match="reason"):
        apply("revise_directive", CourseState.VERIFIED, CourseFacts(signed_directive=True))


@pytest.mark.parametrize("state", [CourseState.ADMINISTERED, CourseState.INPATIENT, CourseState.RELEASED, CourseState.CLOSED])
def test_a_course_cannot_be_stopped_once_activity_was_given(state):
    with pytest.raises(TransitionRefused):
        apply("stop", state, ALL_TRUE)


def test_a_course_can_be_stopped_from_screening_with_a_reason():
    assert apply("stop", CourseState.SCREENING, CourseFacts(reason_given=True)) is CourseState.CLOSED


def test_closed_is_final():
    assert available(CourseState.CLOSED) == ()


def test_an_unknown_event_is_refused_with_a_message():
    with pytest.raises(TransitionRefused, match="not a step"):
        apply("teleport", CourseState.SCREENING, ALL_TRUE)


def test_no_step_goes_backwards_except_the_directive_revision():
    for t in TRANSITIONS:
        for source in t.sources:
            if t.event != "revise_directive":
                assert ORDER.index(t.target) > ORDER.index(source), (t.event, source)


def test_an_unreviewed_serious_adverse_event_keeps_the_course_from_closing():
    from mibg.core.course_state import CourseFacts, CourseState, TransitionRefused, apply

    with pytest.raises(TransitionRefused):
        apply("close", CourseState.FOLLOW_UP, CourseFacts(open_serious_adverse_event=True))
    assert apply("close", CourseState.FOLLOW_UP, CourseFacts()) is CourseState.CLOSED


def test_every_state_but_closed_has_one_next_step_whose_event_leaves_that_state():
    from mibg.core.course_state import NEXT_STEP, SCREENING_STEPS, next_step, transition

    assert set(NEXT_STEP) == set(CourseState) - {CourseState.CLOSED}
    for state, step in NEXT_STEP.items():
        assert state in transition(step.event).sources, state
    for step in SCREENING_STEPS.values():
        assert transition(step.event).sources == {CourseState.SCREENING}
    assert next_step(CourseState.CLOSED) is None


def test_in_screening_the_next_step_follows_the_latest_verdict():
    from mibg.core.course_state import next_step

    assert next_step("screening").action == "screening.edit"
    assert next_step("screening", "not eligible").action == "screening.edit"
    assert next_step("screening", "needs review").action == "chair.decide"
    assert next_step("screening", "eligible").action == "course.confirm_eligibility"
