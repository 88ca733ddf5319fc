"""Call scripts: operators write jinja2 templates, volunteers see them filled in per voter.

Templates run in jinja2's immutable sandbox with autoescaping (the output is HTML on the
volunteer's page), and what they produce is cut down to an allow-list of formatting
(engine/scripts/sanitize.py), so the operator's own markup cannot carry script either.

Variables: each voter field by name (`{{ first_name }}`), all of them as
`voter` (for CSV columns that are not identifiers: `{{ voter["Precinct Name"] }}`), and the
volunteer's first name as `volunteer`. Unknown variables (`{{ nickname }}`,
`{{ voter.nickname }}`) render as nothing; an attribute of an unknown one is an error.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from engine.errors import InvalidInput
from engine.models import Voter
from engine.scripts.sanitize import sanitize_script_html

MAX_EXPONENT = 100
MAX_INT_BITS = 4096
MAX_REPEAT = 10_000
"""Limits on `**` and `*`, so a one-line expression such as `{{ 9**9**9 }}` cannot hang the
process (jinja2's sandbox already limits range()). The sandbox guards Python's internals,
not CPU or memory: a deliberately wasteful loop can still be written, so only operators
(signed in) may edit scripts."""

SAMPLE_VOLUNTEER = "Sam"


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise SecurityError(f"exponents above {MAX_EXPONENT} are not allowed")
    ints = isinstance(base, int) and isinstance(exponent, int)
    if ints and abs(base).bit_length() * exponent > MAX_INT_BITS:
        raise SecurityError("numbers this large are not allowed")


def _check_product(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS:
            raise SecurityError("numbers this large are not allowed")
        return
    for count, seq in ((left, right), (right, left)):
        repeats_too_much = isinstance(seq, str | list | tuple) and isinstance(count, int)
        if repeats_too_much and count * max(1, len(seq)) > MAX_REPEAT:
            raise SecurityError(f"repeating beyond {MAX_REPEAT} items is not allowed")


class _ScriptEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            _check_power(left, right)
            return operator.pow(left, right)
        _check_product(left, right)
        return operator.mul(left, right)


def _environment() -> _ScriptEnvironment:
    return _ScriptEnvironment(autoescape=True, undefined=Undefined)


_ENV = _environment()


def render_script(template: str, voter_fields: Mapping[str, Any], volunteer_name: str) -> str:
    """The script as HTML for one voter and volunteer; every value is HTML-escaped and the
    result holds only allowed formatting (no script, no event handlers).

    A script that fails (a syntax error, or reaching for something the sandbox forbids)
    renders as an escaped notice asking the volunteer to tell the organizer, rather than
    breaking the volunteer's page. check_script catches these when the script is saved.
    """
    context = {**voter_fields, "voter": dict(voter_fields), "volunteer": volunteer_name}
    try:
        html = _ENV.from_string(template).render(context)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        return _error_notice(exc)
    return sanitize_script_html(html)


def _error_notice(exc: Exception) -> str:
    return str(
        Markup(
            '<p class="script-error">The script could not be shown ({}). '
            "Please tell the campaign organizer.</p>"
        ).format(_problem(exc))
    )


def _problem(exc: Exception) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"line {exc.lineno}: {exc.message}"
    if isinstance(exc, SecurityError):
        return f"not allowed: {exc}"
    return f"{type(exc).__name__}: {exc}"


def check_script(template: str) -> list[str]:
    """Problems with a script, each a sentence for the operator; empty if it is fine.

    Reports syntax errors and attributes starting with "_" with their line numbers, then
    tries the script on a sample voter and reports anything that fails there.
    """
    try:
        tree = _ENV.parse(template)
    except TemplateSyntaxError as exc:
        return [_problem(exc)]
    problems = [
        f"line {node.lineno}: {name!r} starts with '_'; scripts may not use such names"
        for node, name in _attributes(tree)
        if name.startswith("_")
    ]
    if problems:
        return problems
    sample = Voter(id=0, campaign_id=0, phone="+15555550100", first_name="Pat")
    context = {**sample.fields(), "voter": sample.fields(), "volunteer": SAMPLE_VOLUNTEER}
    try:
        _ENV.from_string(template).render(context)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        return [f"with a sample voter: {_problem(exc)}"]
    return []


def _attributes(tree: nodes.Template) -> list[tuple[nodes.Node, str]]:
    found: list[tuple[nodes.Node, str]] = [(n, n.attr) for n in tree.find_all(nodes.Getattr)]
    for item in tree.find_all(nodes.Getitem):
        if isinstance(item.arg, nodes.Const) and isinstance(item.arg.value, str):
            found.append((item, item.arg.value))
    return found


def validate_script(template: str) -> None:
    """Raises InvalidInput listing the script's problems, if it has any."""
    problems = check_script(template)
    if problems:
        raise InvalidInput("The script has problems: " + "; ".join(problems))
