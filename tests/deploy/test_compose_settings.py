"""docker/compose.yaml refuses to start without its required settings, with one sentence
naming the variable and where to set it, and creates nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testbed.containers.podman import ContainerError, podman
from testbed.containers.stack import ComposeStack, StackPorts, StackSettings, project_for


def test_compose_without_a_carrier_names_the_missing_setting(tmp_path: Path) -> None:
    settings = StackSettings(StackPorts.free(), "", 5060, "a-secret")
    stack = ComposeStack(project_for(os.getpid()) + "x", settings, tmp_path)
    try:
        with pytest.raises(ContainerError) as refused:
            stack.up()
        assert "set PHONEBANK_TRUNK_HOST to your SIP carrier's host in docker/.env" in str(
            refused.value
        )
        label = f"label=io.podman.compose.project={stack.project}"
        assert podman("ps", "-aq", "--filter", label).split() == []
        assert podman("volume", "ls", "-q", "--filter", label).split() == []
    finally:
        stack.remove()
