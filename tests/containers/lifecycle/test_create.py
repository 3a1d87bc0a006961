"""Create/run through the API and the form: the engine gets the spec, core.checks can block
with a reason, bad input is a field error (never a 500), bind mounts are for admins."""

import pytest
from django.test import Client

from apps.activity.models import AuditEvent, Operation
from apps.containers.models import Container
from apps.core import checks
from apps.core.checks import CheckResult
from tests.conftest import api_client_for
from tests.helpers import unique

from .conftest import IMAGE

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]


def create(user, body):
    return api_client_for(user).post("/api/v1/containers/", body, format="json")


@pytest.fixture
def block_latest():
    """A policy (as scans will register one) that blocks images tagged :latest."""

    def check(team, spec):
        if spec.get("image", "").endswith(":latest"):
            yield CheckResult("block", "images tagged :latest are not allowed", "test-policy")
        yield CheckResult("warn", "this is only a test")

    checks.register("container.create", check)
    yield check
    checks.unregister("container.create", check)


def test_create_and_run_from_the_api(two_teams, local_host, engine_client, test_labels, block_latest):
    operator = two_teams["a"]["operator"]
    name = unique("created")
    resp = create(operator, {
        "host": local_host.pk, "image": IMAGE, "name": name, "command": "sh -c 'while true; do sleep 1; done'",
        "env": ["GREETING=hello world", "MODE=test"], "ports": "127.0.0.1::8080", "restart_policy": "on-failure:2",
        "memory": "64m", "cpus": "0.5", "labels": {**test_labels, "role": "web"}, "volumes": [f"{name}-data:/data"],
    })
    assert resp.status_code == 202, resp.content
    op = Operation.objects.get(pk=resp.json()["operation"])
    assert op.status == "succeeded", op.error
    assert "Warning: this is only a test" in op.log
    container = engine_client.containers.get(name)
    assert container.status == "running"
    attrs = container.attrs
    assert "GREETING=hello world" in attrs["Config"]["Env"]
    assert attrs["HostConfig"]["Memory"] == 64 * 1024**2 and attrs["HostConfig"]["NanoCpus"] == 500_000_000
    assert attrs["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostIp"] == "127.0.0.1"
    row = Container.objects.get(host=local_host, docker_id=container.id)
    assert row.state == "running" and row.labels["role"] == "web" and row.team == two_teams["a"]["team"]
    assert AuditEvent.objects.filter(name="container.create", object_id=str(row.pk), actor=operator).exists()
    container.remove(force=True, v=True)
    engine_client.volumes.get(f"{name}-data").remove()


def test_check_blocks_create_with_its_reason(two_teams, local_host, engine_client, block_latest):
    name = unique("blocked")
    resp = create(two_teams["a"]["operator"], {"host": local_host.pk, "image": "dockerforge/busybox:latest", "name": name})
    assert resp.status_code == 400
    reasons = resp.json()["error"]["details"]["checks"]
    assert reasons == ["Blocked by a policy: images tagged :latest are not allowed (test-policy)"]
    assert not Operation.objects.exists()
    # The form shows the same reason above the fields.
    client = Client()
    client.force_login(two_teams["a"]["operator"])
    resp = client.post("/containers/new/", {"host": local_host.pk, "image": "dockerforge/busybox:latest", "name": name, "restart_policy": "no"})
    assert resp.status_code == 400
    assert "images tagged :latest are not allowed" in resp.content.decode()
    assert not engine_client.containers.list(all=True, filters={"name": name})


def test_missing_image_fails_the_operation_with_the_engines_message(two_teams, local_host, test_labels):
    resp = create(two_teams["a"]["operator"], {"host": local_host.pk, "image": "dockerforge/absent:nope", "labels": test_labels})
    op = Operation.objects.get(pk=resp.json()["operation"])
    assert op.status == "failed"
    assert "No such image" in op.error


def test_bind_mounts_are_for_admins(two_teams, local_host, engine_client, test_labels):
    body = {"host": local_host.pk, "image": IMAGE, "volumes": "/tmp:/host-tmp:ro", "labels": test_labels, "command": "true"}
    resp = create(two_teams["a"]["operator"], body)
    assert resp.status_code == 400
    assert "only team admins" in resp.json()["error"]["details"]["volumes"][0]
    name = unique("bind")
    resp = create(two_teams["a"]["admin"], {**body, "name": name})
    assert Operation.objects.get(pk=resp.json()["operation"]).status == "succeeded"
    assert engine_client.containers.get(name).attrs["HostConfig"]["Binds"] == ["/tmp:/host-tmp:ro"]


def test_create_input_errors_are_400(two_teams, local_host):
    operator = two_teams["a"]["operator"]
    assert create(operator, {"image": IMAGE}).json()["error"]["details"] == {"host": ["A host id is required."]}
    resp = create(operator, {"host": local_host.pk, "image": IMAGE, "env": "X", "ports": "1:2:3:4", "memory": "lots"})
    assert resp.status_code == 400
    assert set(resp.json()["error"]["details"]) == {"env", "ports", "memory"}
    resp = create(operator, {"host": local_host.pk})
    assert resp.json()["error"]["details"]["image"] == ["An image is required."]


def test_create_form_page(two_teams, local_host, engine_client, test_labels):
    client = Client()
    client.force_login(two_teams["a"]["operator"])
    assert client.get("/containers/new/").status_code == 200
    resp = client.post("/containers/new/", {"host": local_host.pk, "image": IMAGE, "ports": "99999:80", "env": "=x"})
    assert resp.status_code == 400
    page = resp.content.decode()
    assert "not a port number" in page and "not a valid variable name" in page
    name = unique("formmade")
    labels = "\n".join(f"{k}={v}" for k, v in test_labels.items())
    resp = client.post("/containers/new/", {"host": local_host.pk, "image": IMAGE, "name": name, "command": "sleep 30", "labels": labels})
    assert resp.status_code == 302
    op = Operation.objects.get(kind="container.create")
    assert resp["Location"] == f"/activity/operations/{op.pk}/"
    assert op.status == "succeeded" and engine_client.containers.get(name).status == "running"
