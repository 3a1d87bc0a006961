"""Config audit: real containers (baseline, privileged/host/socket, hardened) give exact sets
of failing checks; exclusions; a third-party check through the entry-point group."""

import sys

import pytest

from apps.core.registries import Registry, audit_checks
from apps.scans import audit, services
from apps.scans.models import AuditExclusion
from tests.helpers import unique

RUNTIME_BASELINE_FAILS = {"4.1", "5.4", "5.11", "5.12", "5.13", "5.26", "5.27", "5.29", "5.30"}


def _run(engine_client, test_labels, start=True, **kwargs):
    create = engine_client.containers.run if start else engine_client.containers.create
    extra = {"detach": True} if start else {}
    return create("dockerforge/busybox:test", ["sleep", "300"], labels=test_labels, name=unique("audit"), **extra, **kwargs)


def _failing(container, engine_client):
    inspect = engine_client.api.inspect_container(container.id)
    image = engine_client.api.inspect_image(inspect["Image"])
    results = audit.run_checks(audit.Context(inspect, image, inspect["Config"]["Image"]), kinds=("runtime",))
    return set(audit.failed_ids(results)), {r["id"]: r for r in results}


@pytest.mark.docker
def test_runtime_audit_baseline_privileged_and_hardened(engine_client, test_labels):
    baseline = _run(engine_client, test_labels)
    # This machine's sandbox cannot start --privileged containers (runc: "unable to apply
    # caps"), so that one is created, not started: the audit reads the same inspect.
    risky = _run(engine_client, test_labels, start=False, privileged=True, network_mode="host", user="0:0",
                 volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"}})
    hardened = _run(engine_client, test_labels, user="1000:1000", read_only=True, mem_limit="64m", nano_cpus=500_000_000,
                    pids_limit=64, cap_drop=["ALL"], security_opt=["no-new-privileges"], network_mode="none",
                    healthcheck={"test": ["CMD", "true"], "interval": 10_000_000_000})
    base_fails, _ = _failing(baseline, engine_client)
    risky_fails, risky_results = _failing(risky, engine_client)
    hard_fails, _ = _failing(hardened, engine_client)
    assert base_fails == RUNTIME_BASELINE_FAILS
    # Exactly what the flags stand for: privileged (5.5, and seccomp off 5.22), host network
    # (5.10), the socket (5.32); --network host also leaves the default bridge (5.30 passes).
    assert risky_fails - base_fails == {"5.5", "5.10", "5.22", "5.32"} | ({"5.2"} if risky_results["5.2"]["status"] == "fail" else set())
    assert base_fails - risky_fails == {"5.30"}
    assert "/var/run/docker.sock" in risky_results["5.32"]["evidence"]
    assert not (hard_fails & base_fails), hard_fails
    assert hard_fails == set()


@pytest.mark.docker
def test_exclusions_per_check_and_per_container(db, make_team, engine_client, test_labels):
    team = make_team()
    container = _run(engine_client, test_labels)
    name = container.name
    AuditExclusion.objects.create(team=team, check_id="5.11", container_name="", reason="no limits on this host")
    AuditExclusion.objects.create(team=team, check_id="5.13", container_name=name, reason="writes to /")
    AuditExclusion.objects.create(team=team, check_id="5.29", container_name="another", reason="not this one")
    inspect = engine_client.api.inspect_container(container.id)
    result = services.audit_inspect(team, inspect, engine_client.api.inspect_image(inspect["Image"]))
    statuses = {r["id"]: r["status"] for r in result.results}
    assert statuses["5.11"] == statuses["5.13"] == "excluded"
    assert statuses["5.29"] == "fail"
    assert set(result.failed) == (RUNTIME_BASELINE_FAILS - {"5.11", "5.13"}) | {"CIS-DI-0001", "CIS-DI-0006"}


def test_every_check_has_id_evidence_and_remediation():
    results = audit.run_checks(audit.Context({"HostConfig": {}, "Config": {}}, {"Config": {"Env": ["DB_PASSWORD=x", "PATH=/bin"]}}, "app:latest"))
    assert {r["id"] for r in results} >= {"5.4", "5.5", "5.6", "5.10", "5.11", "5.12", "5.13", "5.15", "5.16", "5.17",
                                          "5.22", "5.26", "5.29", "5.32", "CIS-DI-0001", "CIS-DI-0006", "CIS-DI-0010", "DKL-DI-0006"}
    assert all(r["remediation"] and r["evidence"] for r in results)
    by_id = {r["id"]: r for r in results}
    assert by_id["CIS-DI-0010"]["status"] == "fail" and "DB_PASSWORD" in by_id["CIS-DI-0010"]["evidence"]
    assert by_id["DKL-DI-0006"]["status"] == "fail"
    assert by_id["5.6"]["status"] == "pass"


def test_sensitive_mounts_and_restart_policy():
    ctx = audit.Context({"HostConfig": {"Binds": ["/etc:/host-etc:ro"], "RestartPolicy": {"Name": "always"}}}, {})
    by_id = {r["id"]: r for r in audit.run_checks(ctx, kinds=("runtime",))}
    assert by_id["5.6"]["status"] == "fail" and "/etc" in by_id["5.6"]["evidence"]
    assert by_id["5.15"]["status"] == "fail"


def test_third_party_check_through_entry_point(tmp_path, monkeypatch):
    """A real distribution on sys.path declaring `dockerforge.audit_checks`."""
    (tmp_path / "df_extra_checks.py").write_text(
        "from apps.scans.audit import Check\n"
        "CHECK = Check('ACME-1', 'Has an owner label', 'runtime', 'low', 'Add an owner label.',\n"
        "              lambda ctx: ('owner' not in (ctx.container.get('Config') or {}).get('Labels', {}), 'labels checked'))\n"
    )
    dist = tmp_path / "df_extra_checks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: df-extra-checks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[dockerforge.audit_checks]\nacme-owner = df_extra_checks:CHECK\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh = Registry("audit_checks")
    monkeypatch.setattr(audit, "audit_checks", fresh)
    audit.register_builtin()
    ids = {c.id for c in audit.all_checks()}
    assert "ACME-1" in ids and "5.5" in ids
    results = {r["id"]: r for r in audit.run_checks(audit.Context({"Config": {"Labels": {}}}, {}), kinds=("runtime",))}
    assert results["ACME-1"]["status"] == "fail"
    sys.modules.pop("df_extra_checks", None)


def test_builtin_checks_are_in_the_shared_registry():
    assert "5.32" in audit_checks and "CIS-DI-0010" in audit_checks
