"""Shared test helpers: run ids, service requirements, users and teams."""

import os
import uuid

import pytest

RUN_ID = os.environ.get("DOCKERFORGE_RUN_ID") or f"local{uuid.uuid4().hex[:6]}"
TEST_LABEL = "dockerforge.test"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def unique(prefix: str) -> str:
    """A name unique to this run and xdist worker (containers, bridges, sockets...)."""
    return f"{prefix}-{RUN_ID}-{worker_id()}-{uuid.uuid4().hex[:6]}"


def require_service(name: str, available: bool, why: str = "") -> None:
    """Skip locally when a real service is missing; in CI a missing service is a failure."""
    if available:
        return
    message = f"{name} is not available{': ' + why if why else ''}"
    if IN_CI:
        pytest.fail(f"{message} (CI must start it: see .ci/run)", pytrace=False)
    pytest.skip(message)
