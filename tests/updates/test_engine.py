"""Acceptance (issue 9): checks, updates, rollback and the CVE gate against the real engine and
a real local registry."""

from __future__ import annotations

import pytest

from apps.activity.models import AuditEvent, Event, Operation
from apps.containers.models import Container
from apps.scans.models import Policy
from apps.scans.services import import_records
from apps.updates import checks, runs
from apps.updates.models import UpdateCheck, UpdatePolicy, UpdateRun
from tests.helpers import unique

from .conftest import HEALTHY, LODASH, LODASH_OSV, UNHEALTHY, docker_client

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=False)]


def _check(container: Container, strategy: str) -> UpdateCheck:
    UpdatePolicy.objects.update_or_create(container=container, defaults={"team_id": container.team_id, "strategy": strategy})
    checks.check_containers([container])
    return UpdateCheck.objects.get(container=container)


def test_check_reports_patch_major_and_a_new_digest(pusher, run_container, host):
    v100 = pusher.push("demo/app", "1.0.0")
    container = run_container(v100)
    pusher.push("demo/app", "1.0.1")
    pusher.push("demo/app", "2.0.0")
    pusher.push("demo/app", "1.0.2-rc1")  # a pre-release: never offered unless asked for
    pusher.push("demo/app", "1.0.5-alpine")  # another tag shape: never offered

    patch = _check(container, "patch")
    assert (patch.status, patch.newer_tag, patch.digest_update) == ("available", "1.0.1", False)
    assert patch.target_ref == v100.replace("1.0.0", "1.0.1")
    assert patch.newest_by_level == {"patch": "1.0.1", "minor": "1.0.1", "major": "2.0.0"}
    major = _check(container, "major")
    assert major.newer_tag == "2.0.0"
    digest = _check(container, "digest")
    assert digest.status == "up_to_date" and not digest.target_ref

    pusher.push("demo/app", "1.0.0")  # new content under the running tag
    again = _check(container, "digest")
    assert again.digest_update and again.status == "available" and again.target_ref == v100
    assert again.remote_digest not in again.local_digests
    event = Event.objects.filter(kind="update.available", team=host.team).latest("pk")
    assert event.payload["data"]["target"] == v100 and event.payload["data"]["digest_update"] is True
    # The same finding again publishes nothing new.
    count = Event.objects.filter(kind="update.available").count()
    checks.check_containers([container])
    assert Event.objects.filter(kind="update.available").count() == count


def test_exclude_label_skips_the_container(pusher, run_container):
    ref = pusher.push("demo/excluded", "1.0.0")
    container = run_container(ref, labels={"dockerforge.update.exclude": "true"})
    assert _check(container, "major").status == "excluded"


def test_a_check_costs_few_requests_for_many_containers_of_one_image(pusher, run_container):
    ref = pusher.push("demo/many", "1.0.0")
    pusher.push("demo/many", "1.1.0")
    rows = [run_container(ref) for _ in range(4)]
    UpdatePolicy.objects.create(team_id=rows[0].team_id, strategy="minor")
    result = checks.check_containers(rows)
    assert result["available"] == 4
    assert result["requests"] <= 4  # digest (401 + retry) and tags, once for all four


def _update(django_capture_on_commit_callbacks, user, container, **kwargs) -> UpdateRun:
    with django_capture_on_commit_callbacks(execute=True):
        op = runs.request_update(user, container, **kwargs)
    return UpdateRun.objects.get(operation=op)


def _config(client, name: str) -> dict:
    data = client.api.inspect_container(name)
    hc, cfg = data["HostConfig"], data["Config"]
    return {"ports": hc["PortBindings"], "env": sorted(e for e in cfg["Env"] if e.startswith("APP_")), "binds": hc["Binds"],
            "labels": {k: v for k, v in cfg["Labels"].items() if k.startswith(("app.", "dockerforge.test"))},
            "restart": hc["RestartPolicy"]}


def test_update_that_passes_the_health_gate_keeps_the_config(pusher, run_container, team_a, tmp_path, django_capture_on_commit_callbacks):
    from tests.fixtures.engines import free_port

    old = pusher.push("demo/ok", "1.0.0", extra=HEALTHY)
    new = pusher.push("demo/ok", "1.1.0", extra=HEALTHY)
    client = docker_client()
    name = unique("upd-ok")
    container = run_container(old, name=name, ports={"8080/tcp": ("127.0.0.1", free_port())}, environment={"APP_MODE": "blue"},
                              volumes={str(tmp_path): {"bind": "/data", "mode": "rw"}}, labels={"app.tier": "web"},
                              restart_policy={"Name": "unless-stopped"})
    before = _config(client, name)
    run = _update(django_capture_on_commit_callbacks, team_a["operator"], container, target=new)
    assert run.status == "succeeded", (run.error, Operation.objects.get(pk=run.operation_id).log)
    data = client.api.inspect_container(name)
    assert data["State"]["Running"] and data["Config"]["Image"] == new and data["Id"] != container.docker_id
    assert _config(client, name) == before
    assert Event.objects.filter(kind="update.completed", payload__data__run=run.pk).exists()
    assert AuditEvent.objects.filter(name="update.completed").exists()
    assert [s["step"] for s in run.steps][:4] == ["start", "backup", "pull", "scan"]
    # (a) the container was backed up before anything changed, and the backup verifies.
    from apps.backups.models import Backup
    from apps.backups.services import check

    backup = Backup.objects.get(kind="container", target_name=name, status="completed")
    assert check(backup).ok

    # Manual rollback of that (last) update: back to the previous image, config still the same.
    with django_capture_on_commit_callbacks(execute=True):
        op = runs.request_rollback(team_a["operator"], run)
    back = UpdateRun.objects.get(operation=op)
    assert back.status == "succeeded", back.error
    data = client.api.inspect_container(name)
    assert data["State"]["Running"] and data["Image"] == run.from_image_id
    assert _config(client, name) == before
    assert Event.objects.filter(kind="update.rolled_back", payload__data__run=back.pk).exists()
    client.close()


BAD_VARIANTS = {
    "exits": {"cmd": '["sh", "-c", "exit 3"]'},
    "unhealthy": {"extra": UNHEALTHY},
    # Under a restart policy a crash loop can look "running" between two polls: RestartCount tells.
    "crash-loop": {"cmd": '["sh", "-c", "sleep 0.2; exit 1"]'},
}


@pytest.mark.parametrize("variant", list(BAD_VARIANTS))
def test_a_failing_new_image_is_rolled_back(variant, pusher, run_container, team_a, django_capture_on_commit_callbacks):
    old = pusher.push(f"demo/bad-{variant}", "1.0.0", extra=HEALTHY)
    bad = pusher.push(f"demo/bad-{variant}", "1.0.1", **BAD_VARIANTS[variant])
    container = run_container(old, restart_policy={"Name": "always"} if variant == "crash-loop" else None)
    run = _update(django_capture_on_commit_callbacks, team_a["operator"], container, target=bad)
    assert run.status == "rolled_back", run.error
    client = docker_client()
    data = client.api.inspect_container(container.name)
    assert data["Id"] == container.docker_id and data["State"]["Running"] and data["Config"]["Image"] == old
    client.close()
    event = Event.objects.get(kind="update.rolled_back", payload__data__run=run.pk)
    assert event.severity == "error" and bad in event.summary
    assert Operation.objects.get(pk=run.operation_id).status == "failed"


def test_the_cve_gate_blocks_then_an_admin_overrides(pusher, run_container, team_a, django_capture_on_commit_callbacks):
    team = team_a["team"]
    import_records(team, LODASH_OSV, name="fixture")
    Policy.objects.create(team=team, name="no criticals", rule=Policy.Rule.MAX_SEVERITY, severity="critical")
    old = pusher.push("demo/cve", "1.0.0")
    new = pusher.push("demo/cve", "1.0.1", files={"app/node_modules/lodash/package.json": LODASH})
    container = run_container(old)

    blocked = _update(django_capture_on_commit_callbacks, team_a["operator"], container, target=new)
    assert blocked.status == "blocked"
    assert [f["id"] for f in blocked.vuln_diff["added"]] == ["GHSA-UPD-0001"]
    assert "no criticals" in blocked.gate[0]
    assert AuditEvent.objects.filter(name="update.blocked").exists()
    assert Event.objects.filter(kind="update.blocked", payload__data__run=blocked.pk).exists()
    client = docker_client()
    assert client.api.inspect_container(container.name)["Id"] == container.docker_id  # untouched

    with pytest.raises(Exception) as denied:
        runs.request_update(team_a["operator"], container, target=new, override=True)
    assert "admin" in str(denied.value)

    done = _update(django_capture_on_commit_callbacks, team_a["admin"], container, target=new, override=True)
    assert done.status == "succeeded", done.error
    assert client.api.inspect_container(container.name)["Config"]["Image"] == new
    assert AuditEvent.objects.filter(name="policy_override").exists()
    assert AuditEvent.objects.filter(name="update.override").exists()
    client.close()


def test_pre_hook_failure_stops_before_anything_changes(pusher, run_container, team_a, django_capture_on_commit_callbacks):
    old = pusher.push("demo/hook", "1.0.0")
    new = pusher.push("demo/hook", "1.0.1")
    container = run_container(old, labels={"dockerforge.update.pre-hook": "echo refusing; exit 4"})
    run = _update(django_capture_on_commit_callbacks, team_a["operator"], container, target=new)
    assert run.status == "failed" and "exited with 4" in run.error
    assert Event.objects.filter(kind="update.failed", payload__data__run=run.pk).exists()
    client = docker_client()
    assert client.api.inspect_container(container.name)["Id"] == container.docker_id
    client.close()
