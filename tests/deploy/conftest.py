"""Deployment fixtures: the images of docker/ built once per session with podman (layers
cached across runs), and the compose stack of a test module with its own project name and
free ports, removed at the end with its volumes."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import load_config
from testbed.containers.podman import build_images
from testbed.containers.stack import ComposeStack, project_for, running_stack
from testbed.pair import PbxPair
from tests.conftest import ARTIFACTS

BUILD_TIMINGS = ARTIFACTS / "containers" / "build-timings.txt"


@pytest.fixture(scope="session")
def container_images() -> dict[str, float]:
    """Build (or reuse the cached layers of) every image; seconds per image, also written
    to build-timings.txt with the other artifacts."""
    timings = build_images(load_config().pbx, ARTIFACTS / "containers")
    BUILD_TIMINGS.write_text("".join(f"{name} {took:.1f} s\n" for name, took in timings.items()))
    return timings


@pytest.fixture(scope="module")
def stack(
    container_images: dict[str, float], pbx_pair: PbxPair, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ComposeStack]:
    """docker/compose.yaml up as its own project; the carrier simulator on the host is its
    SIP trunk."""
    project = project_for(os.getpid())
    work = tmp_path_factory.mktemp("stack")
    carrier_port = pbx_pair.carrier.spec.sip_port
    logs = ARTIFACTS / "containers" / "logs"
    with running_stack(project, work, "127.0.0.1", carrier_port, logs=logs) as running:
        yield running


def trust(root_ca_pem: str, work: Path) -> ssl.SSLContext:
    """A client context that trusts only this CA."""
    path = work / "root.crt"
    path.write_text(root_ca_pem)
    return ssl.create_default_context(cafile=str(path))
