"""Every CLI command (phonebank's and the test bed's) and configuration key is documented in
README.md."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path

from engine.config import Config
from phonebank.cli import _parser
from testbed.cli import parser as bed_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _keys(cls: type, prefix: str = "") -> list[str]:
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        args = typing.get_args(hints[f.name])
        if args and isinstance(args[0], type) and dataclasses.is_dataclass(args[0]):
            keys += _keys(args[0], f"{prefix}{f.name}[].")  # an array of tables: [[nodes]]
        elif dataclasses.is_dataclass(hints[f.name]):
            keys += _keys(hints[f.name], f"{prefix}{f.name}.")
        else:
            keys.append(prefix + f.name)
    return keys


def _commands(parser: argparse.ArgumentParser, prefix: str = "phonebank") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found += _commands(sub, f"{prefix} {name}")
    return found


def test_every_config_key_and_its_environment_variable_is_documented() -> None:
    keys = _keys(Config)
    assert "pbx.cache_dir" in keys
    assert "nodes[].ari_url" in keys
    for key in keys:
        assert f"`{key}`" in README, key
        if "[]" not in key:  # arrays of tables have no environment variables
            env = "PHONEBANK_" + key.replace(".", "_").upper()
            assert f"`{env}`" in README, env


def test_every_cli_command_is_documented() -> None:
    commands = _commands(_parser())
    assert "phonebank pbx start" in commands
    for command in commands:
        assert f"`{command}" in README, command


def test_every_test_bed_command_is_documented() -> None:
    commands = _commands(bed_parser(), "python -m testbed")
    assert "python -m testbed run" in commands
    for command in commands:
        assert f"`{command}" in README, command
