"""Shared test helpers: run ids, service requirements, users and teams."""

import os
import uuid

import pytest

RUN_ID = os.environ.get("DOCKERFORGE_RUN_ID") or f"local{uuid.uuid4().hex[:6]}"
TEST_LABEL = "dockerforge.test"
WORKER_LABEL = "dockerforge.test.worker"  # which xdist worker made it (its own cleanup)
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


def in_other_thread(fn, timeout: float = 10.0):
    """Run fn() in a fresh thread, as another process's code would (a worker publishing),
    close that thread's database connections, and return fn's result (re-raising errors)."""
    import threading

    from django.db import connections

    out: dict = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            out["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"{fn!r} did not finish within {timeout}s")
    if "error" in out:
        raise out["error"]
    return out.get("value")
