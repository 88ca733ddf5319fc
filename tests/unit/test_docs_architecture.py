"""docs/architecture.md names only modules that exist, so its package map cannot go stale.

A path followed by "(planned)" names a module still being built: it must not exist yet, and
the mark comes off the day it does.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
PATH = re.compile(
    r"(?<![\w/.-])((?:engine|web|testbed|phonebank|bench)/[\w./-]*[\w/])"
    r"(`?\s*\*?\(planned\))?"
)


def mentioned_paths(text: str) -> dict[str, bool]:
    """Each repository path the text mentions, and whether it is marked planned."""
    found: dict[str, bool] = {}
    for match in PATH.finditer(text):
        path = match.group(1).rstrip(".")
        found[path] = found.get(path, False) or match.group(2) is not None
    return found


def test_mentioned_paths_are_found_with_their_planned_mark() -> None:
    text = "`engine/ari/client.py`, web/operator/ and `engine/calls/ports.py` *(planned)*."
    assert mentioned_paths(text) == {
        "engine/ari/client.py": False,
        "web/operator/": False,
        "engine/calls/ports.py": True,
    }


def test_the_package_map_names_every_package() -> None:
    packages = ["testbed/", "phonebank/"]
    for top in ("engine", "web"):
        packages += sorted(
            f"{init.parent.relative_to(ROOT).as_posix()}/"
            for init in (ROOT / top).rglob("__init__.py")
            if init.parent != ROOT / top
        )
    assert "engine/dialer/pacing/" in packages
    unnamed = [package for package in packages if f"`{package}`" not in ARCHITECTURE]
    assert not unnamed, f"add these packages to the map in docs/architecture.md: {unnamed}"


def test_every_module_path_in_the_architecture_doc_exists() -> None:
    paths = mentioned_paths(ARCHITECTURE)
    assert "engine/ari/client.py" in paths
    missing = sorted(p for p, planned in paths.items() if not planned and not (ROOT / p).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_no_planned_path_exists_yet() -> None:
    built = sorted(p for p, planned in mentioned_paths(ARCHITECTURE).items() if planned)
    built = [p for p in built if (ROOT / p).exists()]
    assert not built, f"docs/architecture.md marks existing paths (planned): drop the mark: {built}"
