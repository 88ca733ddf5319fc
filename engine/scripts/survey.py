"""A campaign's survey: checking its definition and working out which questions are asked.

A survey is a list of questions (see Campaign.survey). Two ways make a question conditional:
- an option's ``"next": "<question id>"`` turns that question into a follow-up, asked only once
  an answer leading to it is chosen;
- a question's ``"ask_if": {"question": "<earlier question id>", "answer": "<option value>"}``
  asks it only when that earlier question was answered with that option.

`check_survey` raises InvalidInput with one sentence an operator can act on; `visible_answers`
keeps only the answers of questions the volunteer was shown (web/static/volunteer-survey.js
applies the same rule on the page).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import InvalidInput

KINDS = ("single", "multiple", "text")
CHOICE_KINDS = ("single", "multiple")


def check_survey(survey: Any) -> None:
    """Raises InvalidInput naming the first problem of a survey definition."""
    if not isinstance(survey, list):
        raise InvalidInput("The survey must be a list of questions.")
    position: dict[str, int] = {}
    for number, question in enumerate(survey, 1):
        qid = _check_question(number, question)
        if qid in position:
            raise InvalidInput(f"Two questions have the id '{qid}'; give each question its own id.")
        position[qid] = number
    for question in survey:
        _check_links(question, survey, position)


def _check_question(number: int, question: Any) -> str:
    if not isinstance(question, dict):
        raise InvalidInput(f"Question {number} must be an object with an id and a text.")
    qid = question.get("id")
    if not isinstance(qid, str) or not qid.strip():
        raise InvalidInput(f"Question {number} needs an id.")
    text = question.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"Question '{qid}' needs a question text.")
    kind = question.get("kind", "single")
    if kind not in KINDS:
        raise InvalidInput(f"Question '{qid}': the kind must be single, multiple or text.")
    options = question.get("options", [])
    if not isinstance(options, list):
        raise InvalidInput(f"Question '{qid}': options must be a list.")
    if kind in CHOICE_KINDS and not options:
        raise InvalidInput(
            f"Question '{qid}' is a {kind} choice question with no options; add one."
        )
    values: set[str] = set()
    for option in options:
        value = option.get("value") if isinstance(option, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"Question '{qid}': every option needs a value.")
        if value in values:
            raise InvalidInput(f"Question '{qid}' has the option '{value}' twice.")
        values.add(value)
    return qid


def _check_links(question: dict[str, Any], survey: list[Any], position: dict[str, int]) -> None:
    qid = question["id"]
    for option in question.get("options", []):
        follow = option.get("next")
        if follow and follow not in position:
            raise InvalidInput(
                f"Question '{qid}': an option leads to question '{follow}', which does not exist."
            )
    condition = question.get("ask_if")
    if condition is None:
        return
    if not isinstance(condition, dict) or not condition.get("question"):
        raise InvalidInput(
            f"Question '{qid}': ask_if must name a question and an answer, like "
            '{"question": "support", "answer": "yes"}.'
        )
    other, answer = condition["question"], condition.get("answer")
    if other == qid:
        raise InvalidInput(f"Question '{qid}' cannot depend on its own answer.")
    if other not in position:
        raise InvalidInput(
            f"Question '{qid}' is asked only after an answer to '{other}', "
            "but there is no such question."
        )
    if position[other] > position[qid]:
        raise InvalidInput(
            f"Question '{qid}' depends on '{other}', which comes after it; move '{other}' above it."
        )
    target = survey[position[other] - 1]
    if target.get("kind", "single") not in CHOICE_KINDS:
        raise InvalidInput(
            f"Question '{qid}' depends on '{other}', a text question; "
            "only answers to choice questions can be used."
        )
    if answer not in {o["value"] for o in target.get("options", [])}:
        raise InvalidInput(
            f"Question '{qid}' is asked only if '{other}' is answered '{answer}', "
            f"but '{other}' has no such option."
        )


def visible_questions(survey: list[dict[str, Any]], answers: Mapping[str, Any]) -> set[str]:
    """The ids of the questions a volunteer is shown, given the answers so far."""
    targets = {o.get("next") for q in survey for o in q.get("options", []) if o.get("next")}
    shown: set[str] = set()
    while True:
        found = {q["id"] for q in survey if _asked(q, survey, targets, shown, answers)}
        if found == shown:
            return shown
        shown = found


def _asked(
    question: dict[str, Any],
    survey: list[dict[str, Any]],
    targets: set[Any],
    shown: set[str],
    answers: Mapping[str, Any],
) -> bool:
    qid = question["id"]
    if qid in targets and not any(
        o.get("next") == qid and o.get("value") in _chosen(answers.get(p["id"]))
        for p in survey
        if p["id"] in shown
        for o in p.get("options", [])
    ):
        return False
    condition = question.get("ask_if")
    if not condition:
        return True
    other = condition.get("question")
    return other in shown and condition.get("answer") in _chosen(answers.get(other))


def _chosen(answer: Any) -> list[Any]:
    if answer is None:
        return []
    return list(answer) if isinstance(answer, list) else [answer]


def visible_answers(survey: list[dict[str, Any]], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers to questions the volunteer was shown (others are dropped); answers to ids
    not in the survey are kept as they are (a survey edited during the shift)."""
    known = {q["id"] for q in survey}
    shown = visible_questions(survey, answers)
    return {k: v for k, v in answers.items() if k not in known or k in shown}
