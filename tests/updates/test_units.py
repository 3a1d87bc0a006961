"""Pure parts: tag versions and policies, references, windows, the release feed."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from apps.updates.registry import parse_reference
from apps.updates.versions import allowed_tag, newest_by_level, parse_tag

TAGS = ["1.0.0", "1.0.1", "1.0.10", "1.1.0", "2.0.0", "2.1.0-rc1", "1.0.2-alpine", "1.0.3-rc.1", "latest", "v1.0.9", "1.2"]


def test_levels_nest_and_keep_the_shape():
    assert newest_by_level("1.0.0", TAGS) == {"patch": "1.0.10", "minor": "1.1.0", "major": "2.0.0"}
    assert newest_by_level("1.0.0-alpine", ["1.0.2-alpine", "1.0.3", "2.0.0-alpine"]) == {
        "patch": "1.0.2-alpine", "minor": "1.0.2-alpine", "major": "2.0.0-alpine"}
    assert newest_by_level("v1.0.0", TAGS) == {"patch": "v1.0.9", "minor": "v1.0.9", "major": "v1.0.9"}
    assert newest_by_level("1.1", TAGS) == {"major": "1.2", "minor": "1.2"}


def test_prereleases_only_when_asked_and_regexes_filter():
    assert newest_by_level("2.0.0", TAGS) == {}
    assert newest_by_level("2.0.0", TAGS, allow_prerelease=True) == {"minor": "2.1.0-rc1", "major": "2.1.0-rc1"}
    assert newest_by_level("1.0.0", TAGS, exclude=r"^1\.0\.1\d")["patch"] == "1.0.1"
    assert newest_by_level("1.0.0", TAGS, include=r"^1\.")["major"] == "1.1.0"
    assert parse_tag("2.1.0-rc1").sort_key() < parse_tag("2.1.0").sort_key()
    assert parse_tag("latest") is None and newest_by_level("latest", TAGS) == {}


def test_allowed_tag_follows_the_strategy():
    levels = {"patch": "1.0.1", "minor": "1.1.0", "major": "2.0.0"}
    assert [allowed_tag(s, levels) for s in ("digest", "patch", "minor", "major")] == ["", "1.0.1", "1.1.0", "2.0.0"]


@pytest.mark.parametrize("ref, expected", [
    ("nginx", ("docker.io", "library/nginx", "latest")),
    ("nginx:1.25-alpine", ("docker.io", "library/nginx", "1.25-alpine")),
    ("docker.io/grafana/grafana:10", ("docker.io", "grafana/grafana", "10")),
    ("127.0.0.1:5000/demo/app:1.0.0", ("127.0.0.1:5000", "demo/app", "1.0.0")),
    ("registry.example.test/a/b", ("registry.example.test", "a/b", "latest")),
])
def test_parse_reference(ref, expected):
    r = parse_reference(ref)
    assert (r.registry, r.repository, r.tag) == expected


def test_windows_follow_the_team_time_zone_and_cross_midnight():
    from apps.updates.models import UpdateWindow

    w = UpdateWindow(name="nightly", weekdays=[0], start=dt.time(23, 30), duration_minutes=60)
    monday_2345_berlin = dt.datetime(2026, 1, 5, 22, 45, tzinfo=dt.UTC)  # 23:45 in Berlin (Monday)
    assert w.contains(monday_2345_berlin, "Europe/Berlin")
    assert w.contains(monday_2345_berlin + dt.timedelta(minutes=30), "Europe/Berlin")  # 00:15 Tuesday: still Monday's window
    assert not w.contains(monday_2345_berlin + dt.timedelta(minutes=50), "Europe/Berlin")
    assert not w.contains(monday_2345_berlin, "UTC")  # 22:45 UTC: not open yet


class _Feed(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed_server():
    server = HTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_release_feed_is_off_by_default_and_never_required(settings, feed_server):
    from apps.updates.version import check_release_feed

    settings.RELEASE_FEED_URL = ""
    assert check_release_feed() is None
    _Feed.body = json.dumps([{"version": "99.0.0", "url": "javascript:alert(1)"}]).encode()
    settings.RELEASE_FEED_URL = f"http://127.0.0.1:{feed_server.server_port}/feed.json"
    info = check_release_feed(force=True)
    assert info["status"] == "update" and info["latest"] == "99.0.0" and info["url"] == ""
    _Feed.body = b"not json"
    assert check_release_feed(force=True)["status"] == "unknown"
    settings.RELEASE_FEED_URL = "http://127.0.0.1:1/closed"
    assert check_release_feed(force=True)["status"] == "unknown"


# --- the health gate (recreate.health_verdict, shared by recreate and the Compose path) ------

def _inspect(*, running=True, restarting=False, restarts=0, health=None, check=False) -> dict:
    state = {"Running": running, "Restarting": restarting, "ExitCode": 0 if running else 1}
    if health:
        state["Health"] = {"Status": health}
    return {"State": state, "RestartCount": restarts, "Config": {"Healthcheck": {"Test": ["CMD", "true"]} if check else None}}


def test_health_verdict_fails_a_container_that_restarted_even_when_running_now():
    from apps.containers.recreate import health_verdict

    assert health_verdict(_inspect(restarts=2), deadline_passed=False).startswith("the new container restarted 2 time(s)")
    assert health_verdict(_inspect(restarts=1), deadline_passed=True) != "ok"
    assert health_verdict(_inspect(), deadline_passed=False) is None  # keep watching
    assert health_verdict(_inspect(), deadline_passed=True) == "ok"
    assert "did not stay running" in health_verdict(_inspect(running=False), deadline_passed=False)
    assert health_verdict(_inspect(check=True, health="starting"), deadline_passed=True) is None
    assert "unhealthy" in health_verdict(_inspect(check=True, health="unhealthy"), deadline_passed=False)
    assert health_verdict(_inspect(check=True, health="healthy"), deadline_passed=True) == "ok"


def test_a_joined_network_namespace_drops_what_the_engine_refuses():
    from apps.containers.create_spec import apply_changes, plan_from_inspect

    inspect = {"Id": "b" * 64, "Name": "/side", "Config": {"Hostname": "aaaaaaaaaaaa", "Image": "x", "ExposedPorts": {"80/tcp": {}}},
               "HostConfig": {"NetworkMode": "container:" + "a" * 64, "Dns": [], "PortBindings": {}, "Links": None},
               "NetworkSettings": {"Networks": {}}}
    plan = plan_from_inspect(inspect, {"Config": {}})
    assert "Hostname" not in plan.body and "ExposedPorts" not in plan.body and "PortBindings" not in plan.body["HostConfig"]
    moved = apply_changes(plan, {"network_mode": "container:" + "c" * 64})
    assert moved.body["HostConfig"]["NetworkMode"] == "container:" + "c" * 64
    assert plan.body["HostConfig"]["NetworkMode"] == "container:" + "a" * 64  # a copy
