"""Fixtures shared by the containers slices: the events listener running in a thread."""

import time

import pytest

from apps.containers.listener import HostListener


def wait_for(check, timeout: float, what: str, interval: float = 0.02):
    """Poll `check` until it returns something truthy (returned), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture
def listening(settings):
    """start(host) runs the host's events listener in a thread (stopped after the test)."""
    settings.LISTENER_BACKOFF_MIN = 0.2
    settings.LISTENER_BACKOFF_MAX = 1.0
    started = []

    def start(host) -> HostListener:
        lst = HostListener(host.pk).start()
        started.append(lst)
        assert lst.connected.wait(30), "the listener did not connect"
        return lst

    yield start
    for lst in started:
        lst.stop()
