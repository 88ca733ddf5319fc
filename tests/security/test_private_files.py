"""Secrets are not readable by other local users (issue 11, item 10): the PBX pair's run
directory and everything rendered in it (ARI and trunk passwords), and the database."""

from __future__ import annotations

import stat
from pathlib import Path

from engine.store.sqlite.store import SqliteStore
from testbed.pair import PbxPair

SECRET_WORDS = ("password", "secret")


def holds_a_secret(path: Path, secrets: list[str]) -> bool:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return False
    return any(s in text for s in secrets) or any(w in text for w in SECRET_WORDS)


def test_no_secret_under_the_run_directory_is_readable_by_others(pbx_pair: PbxPair) -> None:
    secrets = [i.spec.ari_password for i in pbx_pair.instances]
    files = [p for p in pbx_pair.run_dir.rglob("*") if p.is_file()]
    secret_files = [p for p in files if holds_a_secret(p, secrets)]
    names = {p.name for p in secret_files}
    assert {"ari.conf", "instance.json", "owner.json"} <= names, names
    exposed = [
        f"{p} ({stat.filemode(p.stat().st_mode)})" for p in secret_files if p.stat().st_mode & 0o077
    ]
    assert exposed == [], "readable by other users: " + ", ".join(exposed)


def test_run_directories_are_closed_to_other_users(pbx_pair: PbxPair) -> None:
    dirs = [pbx_pair.run_dir, *(p for p in pbx_pair.run_dir.rglob("*") if p.is_dir())]
    open_to_others = [
        f"{d} ({stat.filemode(d.stat().st_mode)})" for d in dirs if d.stat().st_mode & 0o007
    ]
    assert open_to_others == [], "others may enter: " + ", ".join(open_to_others)
    # Asterisk (the chroot's asterisk user) owns its instance directories, the rest is root's
    # with only the asterisk group let in.
    for instance in pbx_pair.instances:
        info = instance.path("etc").stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (instance.runtime.uid, 0o700)
    assert pbx_pair.run_dir.stat().st_gid == pbx_pair.dialer.runtime.gid


def test_the_pbx_pair_runs_with_its_private_configuration(pbx_pair: PbxPair) -> None:
    for instance in pbx_pair.instances:
        assert instance.healthy(), instance.log_tail()


async def test_the_database_and_its_new_directory_are_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "phonebank.db"
    store = SqliteStore.open(path)
    try:
        await store.list_campaigns()
        for file in path.parent.glob("phonebank.db*"):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 in (0, 0o011)
    finally:
        await store.close()


async def test_an_existing_database_readable_by_others_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "phonebank.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    store = SqliteStore.open(path)
    await store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
