"""Per-question and term-code tallies from the store's counts (ResultCounts): each option's
count and share. The share of a choice is of the results that answered the question, so the
shares of a multiple-choice question may add up to more than 100 %."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.models import TermCode
from engine.reports.answers import Question
from engine.store.result_rows import ResultCounts, TextAnswer


@dataclass(frozen=True)
class OptionCount:
    label: str
    value: str
    count: int
    share: float
    """Percent, one decimal."""


@dataclass(frozen=True)
class QuestionTally:
    id: str
    text: str
    kind: str
    respondents: int
    """Counted results that answered the question."""
    options: list[OptionCount]
    """Choice questions: every option in the survey's order, then values no option has."""
    latest: list[TextAnswer]
    """Text questions: the newest answers."""


def share(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def question_tallies(survey: Sequence[Question], counts: ResultCounts) -> list[QuestionTally]:
    return [_tally(question, counts) for question in survey]


def _tally(question: Question, counts: ResultCounts) -> QuestionTally:
    respondents = counts.respondents.get(question.id, 0)
    if question.kind == "text":
        latest = counts.latest_text.get(question.id, [])
        return QuestionTally(question.id, question.text, question.kind, respondents, [], latest)
    seen = {value: n for (qid, value), n in counts.choices.items() if qid == question.id}
    options = [OptionCount(o.label, o.value, seen.pop(o.value, 0), 0.0) for o in question.options]
    options += [OptionCount(value, value, n, 0.0) for value, n in sorted(seen.items())]
    shared = [OptionCount(o.label, o.value, o.count, share(o.count, respondents)) for o in options]
    return QuestionTally(question.id, question.text, question.kind, respondents, shared, [])


def term_code_tally(term_codes: Sequence[TermCode], counts: ResultCounts) -> list[OptionCount]:
    """Each term code's count and share of the counted results, in the campaign's order, then
    codes no longer in the campaign (by their code)."""
    seen = dict(counts.term_codes)
    total = sum(seen.values())
    rows = [(t.label, t.code, seen.pop(t.code, 0)) for t in term_codes]
    rows += [(code, code, n) for code, n in sorted(seen.items())]
    return [OptionCount(label, code, n, share(n, total)) for label, code, n in rows]
