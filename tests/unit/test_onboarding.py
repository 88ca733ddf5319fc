"""What the command line tells a new operator (phonebank/onboarding.py)."""

from __future__ import annotations

from pathlib import Path

from engine.config import WebConfig
from phonebank.onboarding import add_operator_command, running_lines, site_url


def test_the_site_is_the_public_url_when_there_is_one() -> None:
    web = WebConfig(public_url="https://calls.example.org/")
    assert site_url(web, "http://127.0.0.1:8080") == "https://calls.example.org"


def test_the_site_is_the_listening_url_or_the_configured_address() -> None:
    assert site_url(WebConfig(), "http://127.0.0.1:41234") == "http://127.0.0.1:41234"
    assert site_url(WebConfig(host="0.0.0.0", port=8081)) == "http://localhost:8081"
    assert site_url(WebConfig(host="::1", port=8081)) == "http://[::1]:8081"


def test_the_add_command_names_the_config_file_only_when_one_was_given() -> None:
    assert add_operator_command(None) == "phonebank operator add NAME"
    assert (
        add_operator_command(Path("/etc/my phonebank.toml"), ".venv/bin/phonebank")
        == ".venv/bin/phonebank --config '/etc/my phonebank.toml' operator add NAME"
    )


def test_running_says_where_the_operator_pages_are_and_how_to_add_the_first_operator() -> None:
    lines = running_lines("http://127.0.0.1:8080", 0, Path("pb.toml"), "phonebank")
    assert lines[0].startswith("operator pages at http://127.0.0.1:8080/operator ")
    assert "`phonebank --config pb.toml operator add NAME`" in lines[1]
    assert lines[1].endswith("log in at http://127.0.0.1:8080/operator/login")


def test_running_with_an_operator_gives_no_add_hint() -> None:
    assert len(running_lines("http://127.0.0.1:8080", 1, None, "phonebank")) == 1
