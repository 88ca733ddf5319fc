"""A result's survey answers as people read them: each question's text with the labels of the
options chosen (a multiple choice joined with "; ")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

JOIN = "; "
"""Between the choices of a multiple-choice answer."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str
    """single, multiple or text."""
    options: tuple[Option, ...]

    def label(self, value: str) -> str:
        """The option's label, or the value itself when no option has it (removed since)."""
        return next((o.label for o in self.options if o.value == value), value)


@dataclass(frozen=True)
class AnswerLine:
    question: str
    answer: str


def questions(survey: Sequence[Mapping[str, Any]]) -> list[Question]:
    """The campaign's survey (Campaign.survey) as Questions, in order; an option may be a
    {"value", "label"} object or a plain string."""
    found = []
    for raw in survey:
        options = []
        for option in raw.get("options") or []:
            if isinstance(option, Mapping):
                value = choice_text(option.get("value", ""))
                options.append(Option(value, str(option.get("label") or value)))
            else:
                options.append(Option(str(option), str(option)))
        kind = str(raw.get("kind") or "single")
        found.append(
            Question(str(raw["id"]), str(raw.get("text") or raw["id"]), kind, tuple(options))
        )
    return found


def with_unknown(survey: Sequence[Question], answered: Sequence[str]) -> list[Question]:
    """The survey, then a text Question (named by its id) for each answered question id the
    survey no longer has, so that no answer is left out of the export."""
    known = {q.id for q in survey}
    return [*survey, *(Question(key, key, "text", ()) for key in answered if key not in known)]


def choice_text(value: Any) -> str:
    """An answer value as the text an option's value is compared with."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def chosen(answer: Any) -> list[str]:
    """The values of an answer: each choice of a list, or the one value; blanks left out."""
    items = answer if isinstance(answer, list) else [answer]
    return [text for text in (choice_text(item).strip() for item in items) if text]


def answer_text(question: Question, answer: Any) -> str:
    """The answer for people: option labels (joined with JOIN), or the text typed."""
    if question.kind == "text":
        return JOIN.join(chosen(answer))
    return JOIN.join(question.label(value) for value in chosen(answer))


def answer_lines(survey: Sequence[Question], answers: Mapping[str, Any]) -> list[AnswerLine]:
    """Every answered question in survey order, then answers to questions no longer in the
    survey (under their id)."""
    lines = [
        AnswerLine(q.text, answer_text(q, answers[q.id]))
        for q in survey
        if q.id in answers and chosen(answers[q.id])
    ]
    known = {q.id for q in survey}
    for key, answer in answers.items():
        if key not in known and chosen(answer):
            lines.append(AnswerLine(key, JOIN.join(chosen(answer))))
    return lines
