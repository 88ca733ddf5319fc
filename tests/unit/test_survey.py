"""The survey definition's checks (one sentence per problem) and which questions are asked."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.scripts.survey import check_survey, visible_answers, visible_questions


def choice(qid: str, *values: str, **extra: Any) -> dict[str, Any]:
    options = [{"value": v, "label": v.title()} for v in values]
    return {"id": qid, "text": f"{qid}?", "kind": "single", "options": options, **extra}


SUPPORT = choice("support", "yes", "no")
WHY_NOT = {
    "id": "why",
    "text": "Why not?",
    "kind": "text",
    "ask_if": {"question": "support", "answer": "no"},
}
SIGN = choice("sign", "yes", "no", ask_if={"question": "support", "answer": "yes"})
SURVEY = [SUPPORT, WHY_NOT, SIGN]


def test_a_survey_with_branches_and_follow_ups_is_accepted() -> None:
    follow = choice("vol", "yes")
    lead = choice("lead", "a", "b")
    lead["options"][0]["next"] = "vol"
    check_survey([*SURVEY, lead, follow])


@pytest.mark.parametrize(
    ("survey", "message"),
    [
        pytest.param({"id": "q"}, "The survey must be a list of questions.", id="not a list"),
        pytest.param(["q"], "Question 1 must be an object", id="not an object"),
        pytest.param([{"text": "Hi?"}], "Question 1 needs an id.", id="no id"),
        pytest.param([{"id": "q", "text": " "}], "Question 'q' needs a question text.", id="text"),
        pytest.param([SUPPORT, SUPPORT], "Two questions have the id 'support'", id="duplicate"),
        pytest.param(
            [{"id": "q", "text": "Q?", "kind": "single", "options": []}],
            "Question 'q' is a single choice question with no options; add one.",
            id="no options",
        ),
        pytest.param(
            [choice("q", "a", "a")], "Question 'q' has the option 'a' twice.", id="dup option"
        ),
        pytest.param(
            [choice("q", "a", ask_if={"question": "gone", "answer": "a"})],
            "Question 'q' is asked only after an answer to 'gone', but there is no such question.",
            id="unknown condition",
        ),
        pytest.param(
            [choice("q", "a", ask_if={"question": "q", "answer": "a"})],
            "Question 'q' cannot depend on its own answer.",
            id="itself",
        ),
        pytest.param(
            [SIGN, SUPPORT],
            "Question 'sign' depends on 'support', which comes after it; move 'support' above it.",
            id="later",
        ),
        pytest.param(
            [SUPPORT, choice("q", "a", ask_if={"question": "support", "answer": "maybe"})],
            "Question 'q' is asked only if 'support' is answered 'maybe', but 'support' has no",
            id="unknown answer",
        ),
        pytest.param(
            [
                {**WHY_NOT, "ask_if": None},
                choice("q", "a", ask_if={"question": "why", "answer": "x"}),
            ],
            "Question 'q' depends on 'why', a text question",
            id="text condition",
        ),
    ],
)
def test_a_bad_survey_is_refused_in_one_sentence(survey: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_survey(survey)
    assert str(raised.value).startswith(message)
    assert str(raised.value).count(". ") == 0  # one sentence


def test_a_conditional_question_is_asked_only_when_its_condition_holds() -> None:
    assert visible_questions(SURVEY, {}) == {"support"}
    assert visible_questions(SURVEY, {"support": "no"}) == {"support", "why"}
    assert visible_questions(SURVEY, {"support": "yes"}) == {"support", "sign"}


def test_a_condition_on_a_multiple_choice_question_holds_when_that_option_is_ticked() -> None:
    issues = {**choice("issues", "tax", "parks"), "kind": "multiple"}
    parks = choice("parks", "yes", ask_if={"question": "issues", "answer": "parks"})
    assert visible_questions([issues, parks], {"issues": ["tax", "parks"]}) == {"issues", "parks"}
    assert visible_questions([issues, parks], {"issues": ["tax"]}) == {"issues"}


def test_a_condition_on_a_hidden_question_hides_its_dependant_too() -> None:
    deeper = choice("deeper", "ok", ask_if={"question": "sign", "answer": "yes"})
    answers = {"support": "no", "sign": "yes"}  # "sign" was answered, then support changed
    assert visible_questions([*SURVEY, deeper], answers) == {"support", "why"}


def test_a_follow_up_is_asked_once_an_answer_leads_to_it() -> None:
    lead = choice("lead", "a", "b")
    lead["options"][0]["next"] = "vol"
    survey = [lead, choice("vol", "yes")]
    assert visible_questions(survey, {"lead": "b"}) == {"lead"}
    assert visible_questions(survey, {"lead": "a"}) == {"lead", "vol"}


def test_answers_to_hidden_questions_are_dropped() -> None:
    answers = {"support": "yes", "why": "too busy", "sign": "yes", "old_question": "kept"}
    assert visible_answers(SURVEY, answers) == {
        "support": "yes",
        "sign": "yes",
        "old_question": "kept",
    }
