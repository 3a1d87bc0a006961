"""The deployment files stay valid: the compose stack parses and names every service."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import require_service

ROOT = Path(__file__).resolve().parents[2]


def test_compose_stack_validates_with_docker_compose(tmp_path):
    require_service("docker-compose", shutil.which("docker-compose") is not None)
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(
        ["docker-compose", "-f", str(tmp_path / "docker-compose.yml"), "config"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert set(config["services"]) == {"web", "worker", "beat", "listener", "redis", "postgres"}
    for name in ("web", "worker", "listener"):
        volumes = [str(v) for v in config["services"][name]["volumes"]]
        assert any("/var/run/docker.sock" in v for v in volumes), f"{name} must mount the Docker socket"
    # One .env for every app service, so they share SECRET_KEY and the encryption keys.
    for name in ("web", "worker", "beat", "listener"):
        assert config["services"][name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_dockerfile_does_not_bake_secrets():
    text = (ROOT / "Dockerfile").read_text()
    assert "collectstatic" in text
    # The build-time key lives in a throwaway folder that is deleted in the same layer.
    assert "rm -rf /tmp/build-var" in text


@pytest.mark.parametrize("name", ["requirements.txt"])
def test_runtime_requirements_are_pinned(name):
    lines = [line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines()]
    reqs = [line for line in lines if line and not line.startswith("-")]
    assert reqs and all("==" in line for line in reqs), [r for r in reqs if "==" not in r]
    names = {r.split("==")[0].split("[")[0].lower() for r in reqs}
    assert {"django", "google-genai", "anthropic", "psycopg", "channels", "celery"} <= names
    assert "google-generativeai" not in names  # deprecated upstream; google-genai replaces it
