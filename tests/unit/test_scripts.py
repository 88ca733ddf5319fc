from __future__ import annotations

from typing import Any

import pytest

from engine.errors import InvalidInput
from engine.models import Voter
from engine.scripts.render import check_script, render_script, validate_script

VOTER = Voter(id=1, campaign_id=1, phone="+15555550123", first_name="Ada", city="Springfield")


def render(template: str, fields: dict[str, Any] | None = None, volunteer: str = "Sam") -> str:
    return render_script(template, VOTER.fields() if fields is None else fields, volunteer)


def test_voter_fields_are_substituted() -> None:
    assert render("Hi {{ first_name }} in {{ city }}") == "Hi Ada in Springfield"


def test_volunteer_name_is_available() -> None:
    assert render("My name is {{ volunteer }}.") == "My name is Sam."


def test_columns_that_are_not_identifiers_are_reachable_through_voter() -> None:
    fields = {**VOTER.fields(), "Precinct Name": "North 4"}
    assert render('{{ voter["Precinct Name"] }}', fields) == "North 4"


def test_unknown_variables_render_empty() -> None:
    assert render("[{{ nickname }}][{{ voter.nickname }}]") == "[][]"


def test_html_in_voter_fields_is_escaped() -> None:
    fields = {**VOTER.fields(), "first_name": "<script>alert(1)</script>"}
    assert render("{{ first_name }}", fields) == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_html_in_volunteer_name_is_escaped() -> None:
    assert render("{{ volunteer }}", volunteer="<b>Sam</b>") == "&lt;b&gt;Sam&lt;/b&gt;"


def test_operator_html_in_the_template_is_kept() -> None:
    assert render("<p>Hello</p>") == "<p>Hello</p>"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ ''['__class__'] }}",
        "{{ lipsum.__globals__ }}",
    ],
)
def test_python_internals_are_blocked(template: str) -> None:
    html = render(template)
    for leak in ("&lt;class", "__builtins__", "jinja2.utils", "<function"):
        assert leak not in html
    assert check_script(template)


def test_blocked_access_renders_an_escaped_notice() -> None:
    html = render("{{ cycler.__init__.__globals__.os }}")
    assert 'class="script-error"' in html
    assert "organizer" in html


def test_mutating_values_is_blocked() -> None:
    assert "script-error" in render("{{ voter.update({'x': 1}) }}")


@pytest.mark.parametrize("template", ["{{ 2**100000000 }}", "{{ (9**99)**99 }}"])
def test_huge_power_is_refused_without_hanging(template: str) -> None:
    assert "not allowed" in render(template)


def test_huge_product_is_refused() -> None:
    assert "not allowed" in render("{{ (2**99) * (2**99) * (2**99) * (2**99) * 2**4000 }}")


def test_huge_repetition_is_refused() -> None:
    assert "not allowed" in render("{{ 'x' * 100000000 }}")


def test_small_arithmetic_still_works() -> None:
    assert render("{{ 2**10 }} {{ 'ab' * 3 }} {{ 6 * 7 }}") == "1024 ababab 42"


def test_syntax_error_reported_with_line_number() -> None:
    problems = check_script("Hello\n{{ first_name }\n")
    assert len(problems) == 1
    assert problems[0].startswith("line 2:")


def test_syntax_error_at_render_time_is_a_notice() -> None:
    assert "line 1" in render("{% if %}")


def test_underscore_attribute_reported_with_line_number() -> None:
    assert check_script("ok\n\n{{ x.__class__ }}") == [
        "line 3: '__class__' starts with '_'; scripts may not use such names"
    ]


def test_runtime_failure_on_a_sample_voter_is_reported() -> None:
    problems = check_script("{{ 1 / 0 }}")
    assert problems and problems[0].startswith("with a sample voter:")


def test_good_script_has_no_problems() -> None:
    assert check_script("Hi {{ first_name }}, I'm {{ volunteer }}. {{ unknown }}") == []


def test_validate_script_raises_with_the_problems() -> None:
    with pytest.raises(InvalidInput, match="line 1"):
        validate_script("{{ oops ")
