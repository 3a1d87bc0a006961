"""create_spec: friendly input -> cleaned values -> create body; inspect -> body without the
image's defaults. Pure functions (no engine)."""

import pytest
from django.core.exceptions import ValidationError

from apps.containers import create_spec as cs


def errors_of(data, **kw) -> dict:
    with pytest.raises(ValidationError) as exc:
        cs.clean_changes(data, may_bind=kw.pop("may_bind", False), **kw)
    return exc.value.message_dict


def test_full_spec_becomes_a_create_body():
    cleaned = cs.clean_changes(
        {
            "image": "127.0.0.1:5000/demo/app:1.0",
            "name": "web-1",
            "command": "sh -c 'echo hi; sleep 5'",
            "env": "A=1\n# comment\n\nB=two=2\r\n",
            "ports": "8080:80\n127.0.0.1:9000:9000/udp\n443",
            "volumes": "data:/data:ro",
            "networks": "front, back",
            "restart_policy": "on-failure:3",
            "memory": "256m",
            "cpus": "0.5",
            "labels": {"team": "a"},
        },
        may_bind=False,
    )
    plan = cs.plan_for_create(cleaned)
    body, host = plan.body, plan.body["HostConfig"]
    assert plan.name == "web-1"
    assert body["Cmd"] == ["sh", "-c", "echo hi; sleep 5"]
    assert body["Env"] == ["A=1", "B=two=2"]
    assert host["PortBindings"] == {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
        "9000/udp": [{"HostIp": "127.0.0.1", "HostPort": "9000"}],
        "443/tcp": [{"HostIp": "", "HostPort": ""}],
    }
    assert set(body["ExposedPorts"]) == {"80/tcp", "9000/udp", "443/tcp"}
    assert host["Binds"] == ["data:/data:ro"]
    assert host["NetworkMode"] == "front" and plan.extra_networks == {"back": {}}
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["Memory"] == 256 * 1024**2 and host["NanoCpus"] == 500_000_000
    assert body["Labels"] == {"team": "a"}
    # And back to the form's text.
    friendly = cs.friendly_from_plan(plan)
    assert friendly["ports"].splitlines() == ["8080:80", "127.0.0.1:9000:9000/udp", "443"]
    assert friendly["memory"] == "256m" and friendly["restart_policy"] == "on-failure:3"
    assert cs.clean_changes({"command": friendly["command"]}, may_bind=False)["command"] == body["Cmd"]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"image": ""}, "image", "An image is required"),
        ({"image": "UPPER/case"}, "image", "not an image reference"),
        ({"name": "-bad"}, "name", "A name is"),
        ({"env": "NOEQUALS"}, "env", "expected KEY=VALUE"),
        ({"env": "1BAD=x"}, "env", "not a valid variable name"),
        ({"env": "A=1\nA=2"}, "env", "given twice"),
        ({"env": 42}, "env", "text lines or a list"),
        ({"ports": "70000:80"}, "ports", "not a port number"),
        ({"ports": "80/icmp"}, "ports", "not tcp, udp or sctp"),
        ({"ports": "1.2.3.999:80:80"}, "ports", "does not appear to be an IPv4 or IPv6 address"),
        ({"ports": "a:b:c:d"}, "ports", "expected [ip:]"),
        ({"volumes": "/etc:/host-etc"}, "volumes", "only team admins may bind-mount"),
        ({"volumes": "data:relative"}, "volumes", "must be absolute"),
        ({"volumes": "data:/x:rx"}, "volumes", "expected name:/path"),
        ({"networks": "host\nfront"}, "networks", "cannot be combined"),
        ({"restart_policy": "sometimes"}, "restart_policy", "not a restart policy"),
        ({"restart_policy": "always:3"}, "restart_policy", "Only on-failure takes"),
        ({"memory": "lots"}, "memory", "with a unit"),
        ({"memory": "1k"}, "memory", "at least 6 MiB"),
        ({"cpus": "fast"}, "cpus", "as a number"),
        ({"command": "sh -c 'unterminated"}, "command", "Cannot split"),
        ({"healthcheck": {"interval": 1}}, "healthcheck", "needs a test command"),
        ({"privileged": True}, "privileged", "Unknown field"),
        ({"env": "A=" + "x" * 200_000}, "env", "Too long"),
    ],
)
def test_bad_input_is_a_field_error(data, field, message):
    errors = errors_of(data)
    assert message in " ".join(errors[field]), errors


def test_admins_may_bind_and_existing_binds_stay_allowed():
    assert cs.clean_changes({"volumes": "/srv/app:/app:ro"}, may_bind=True)["volumes"] == ["/srv/app:/app:ro"]
    kept = cs.clean_changes({"volumes": "/srv/app:/app"}, may_bind=False, existing_binds=("/srv/app:/app",))
    assert kept["volumes"] == ["/srv/app:/app"]


def test_signals_and_timeouts():
    assert cs.parse_signal("term") == "SIGTERM" and cs.parse_signal("9") == "9" and cs.parse_signal(None) == "SIGKILL"
    with pytest.raises(ValidationError):
        cs.parse_signal("SIGNOPE")
    assert cs.parse_timeout("30") == 30 and cs.parse_timeout(None) is None
    for bad in ("-1", "abc", 4000, True):
        with pytest.raises(ValidationError):
            cs.parse_timeout(bad)


IMAGE = {
    "Config": {
        "Env": ["PATH=/usr/bin:/bin", "LANG=C"],
        "Cmd": ["/bin/sh"],
        "Entrypoint": None,
        "Labels": {"maintainer": "x", "version": "1"},
        "ExposedPorts": {"80/tcp": {}},
        "WorkingDir": "/srv",
        "User": "app",
        "Volumes": {"/cache": {}},
    }
}


def test_plan_from_inspect_drops_image_defaults_and_keeps_what_the_container_set():
    cid = "abcdef0123456789" * 4
    inspect = {
        "Id": cid,
        "Name": "/web",
        "Image": "sha256:img",
        "Config": {
            "Hostname": cid[:12],
            "Image": "app:1",
            "Env": ["PATH=/usr/bin:/bin", "LANG=C", "MODE=prod"],
            "Cmd": ["/bin/sh"],
            "Entrypoint": None,
            "Labels": {"maintainer": "x", "version": "1", "tier": "web"},
            "ExposedPorts": {"80/tcp": {}, "9000/tcp": {}},
            "WorkingDir": "/srv",
            "User": "root",
            "Volumes": {"/cache": {}},
        },
        "HostConfig": {"NetworkMode": "front", "Binds": ["data:/data"], "Links": ["/db:/web/database"], "RestartPolicy": {"Name": "always"}},
        "Mounts": [
            {"Type": "volume", "Name": "data", "Destination": "/data", "RW": True},
            {"Type": "volume", "Name": "anon123", "Destination": "/cache", "RW": True},
        ],
        "NetworkSettings": {
            "Networks": {
                "front": {"Aliases": [cid[:12], "www"], "NetworkID": "n1", "IPAddress": "10.0.0.2", "IPAMConfig": None},
                "back": {"Aliases": None, "NetworkID": "n2", "IPAMConfig": {"IPv4Address": "10.1.0.9"}},
            }
        },
    }
    plan = cs.plan_from_inspect(inspect, IMAGE)
    body = plan.body
    assert plan.name == "web"
    assert body["Env"] == ["MODE=prod"]
    assert body["Cmd"] is None and body["Entrypoint"] is None
    assert body["Labels"] == {"tier": "web"}
    assert body["ExposedPorts"] == {"9000/tcp": {}}
    assert "WorkingDir" not in body and body["User"] == "root" and "Hostname" not in body
    assert body["Image"] == "app:1"
    # The anonymous volume comes back by name, so its data survives the recreate.
    assert body["HostConfig"]["Binds"] == ["data:/data", "anon123:/cache"]
    assert body["HostConfig"]["Links"] == ["db:database"]
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"front": {"Aliases": ["www"]}}}
    assert plan.extra_networks == {"back": {"IPAMConfig": {"IPv4Address": "10.1.0.9"}}}
    # A new image then supplies its own defaults; changes replace whole fields.
    changed = cs.apply_changes(plan, cs.clean_changes({"image": "app:2", "env": "MODE=dev"}, may_bind=False))
    assert changed.body["Image"] == "app:2" and changed.body["Env"] == ["MODE=dev"]
    assert plan.body["Env"] == ["MODE=prod"]  # the original plan is untouched
