"""Policies through core.checks, the API's roles and isolation, reports, and the pages."""

import json
from datetime import UTC

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.activity.models import AuditEvent, Event
from apps.core import actor as actor_ctx
from apps.core import checks
from apps.scans import policies, services
from apps.scans.models import Policy, Scan
from apps.scans.sbom import SBOM, OSInfo, Package
from tests.conftest import api_client_for

from .conftest import OSV_FIXTURE


def test_policy_blocks_privileged_create_with_clear_message_and_override_is_audited(two_teams, django_capture_on_commit_callbacks):
    team = two_teams["a"]["team"]
    Policy.objects.create(team=team, name="No privileged", rule=Policy.Rule.NO_PRIVILEGED)
    Policy.objects.create(team=team, name="No socket", rule=Policy.Rule.NO_DOCKER_SOCK, enforcement="warn")
    spec = {"image": "busybox:1", "privileged": True, "volumes": {"/var/run/docker.sock": {"bind": "/s"}}, "user": ""}
    with django_capture_on_commit_callbacks(execute=True):
        results = checks.run("container.create", team, spec)
    blocking = checks.blocking(results)
    assert [r.reason for r in blocking] == ["Policy “No privileged”: privileged containers are not allowed"]
    assert [r.level for r in results if not r.blocks] == ["warn"]
    assert Event.objects.filter(team=team, kind="scan.policy_violation").count() == 1
    # Another team's policies do not apply; a compliant spec passes.
    assert checks.run("container.create", two_teams["b"]["team"], spec) == []
    assert checks.run("container.create", team, {"image": "busybox:1", "privileged": False}) == []
    admin = two_teams["a"]["admin"]
    with actor_ctx.acting(actor_ctx.Actor(user_id=admin.pk, username=admin.username, via="web")):
        policies.record_override(admin, team, spec, blocking)
    audit = AuditEvent.objects.get(team=team, name="policy_override")
    assert audit.actor_id == admin.pk and "privileged" in audit.after["overridden"][0]


def test_vulnerability_policy_blocks_image_with_fixable_critical(db, make_team):
    team = make_team()
    services.import_records(team, OSV_FIXTURE, name="fixture")
    scan = Scan.objects.create(team=team, image_ref="web:1", repo="web", status=Scan.Status.SUCCEEDED,
                               sbom=SBOM(os=OSInfo(), packages=[Package("npm", "lodash", "4.17.20")]).as_dict())
    Policy.objects.create(team=team, name="No fixable criticals", rule=Policy.Rule.NO_FIXABLE, severity="critical")
    services.match_scan(scan)
    scan.refresh_from_db()
    assert scan.policy_results[0]["reason"] == "1 critical+ vulnerabilities with a fix available"
    assert Event.objects.filter(team=team, kind="scan.policy_violation").exists()
    assert checks.blocking(checks.run("container.create", team, {"image": "web:1"}))
    assert not checks.run("container.create", team, {"image": "other:1"})


def test_api_roles_and_isolation(two_teams):
    a, b = two_teams["a"], two_teams["b"]
    url = reverse("api:policy-list")
    body = {"team": a["team"].pk, "name": "No host net", "rule": "no_host_network"}
    assert api_client_for(a["operator"]).post(url, body, format="json").status_code == 403
    created = api_client_for(a["admin"]).post(url, body, format="json")
    assert created.status_code == 201, created.content
    dup = api_client_for(a["admin"]).post(url, body, format="json")
    assert dup.status_code == 400 and "name" in json.dumps(dup.json())
    detail = reverse("api:policy-detail", args=[created.json()["id"]])
    assert api_client_for(b["admin"]).get(detail).status_code == 404
    assert api_client_for(a["viewer"]).get(detail).status_code == 200
    bad = api_client_for(a["admin"]).post(url, {"team": a["team"].pk, "name": "x", "rule": "nope"}, format="json")
    assert bad.status_code == 400 and "rule" in json.dumps(bad.json())
    sup = api_client_for(a["admin"]).post(reverse("api:suppression-list"), {"team": a["team"].pk, "vulnerability_id": "CVE-1", "reason": ""}, format="json")
    assert sup.status_code == 400 and "reason" in json.dumps(sup.json())


def test_api_database_upload_scans_and_reports(two_teams, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    a = two_teams["a"]
    team = a["team"]
    scan = Scan.objects.create(team=team, image_ref="web:1", repo="web", status=Scan.Status.SUCCEEDED,
                               sbom=SBOM(os=OSInfo(id="debian", version_id="12"), packages=[Package("npm", "lodash", "4.17.20")]).as_dict())
    upload = SimpleUploadedFile("osv.json", json.dumps(OSV_FIXTURE).encode(), content_type="application/json")
    url = reverse("api:vulnerability-database-list")
    assert api_client_for(a["operator"]).post(url, {"team": team.pk, "file": upload}, format="multipart").status_code == 403
    upload.seek(0)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(a["admin"]).post(url, {"team": team.pk, "file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    listed = api_client_for(a["viewer"]).get(url).json()
    from datetime import datetime, timedelta

    from django.utils import timezone

    newest = datetime(2026, 1, 1, tzinfo=UTC)  # the fixture's latest `modified`
    assert listed["results"][0]["record_count"] == len(OSV_FIXTURE)
    assert listed["results"][0]["stale"] is (timezone.now() - newest > timedelta(days=settings.SCANS_DB_STALE_DAYS))
    # The import re-matched the stored scan.
    findings = api_client_for(a["viewer"]).get(reverse("api:finding-list"), {"scan": scan.pk}).json()["results"]
    assert [f["vulnerability_id"] for f in findings] == ["GHSA-0007"]
    assert api_client_for(two_teams["b"]["viewer"]).get(reverse("api:finding-list")).json()["results"] == []
    for fmt in ("json", "sarif", "cyclonedx", "spdx"):
        r = api_client_for(a["viewer"]).get(reverse("api:scan-report", args=[scan.pk]), {"fmt": fmt})
        assert r.status_code == 200, fmt
        doc = json.loads(r.content)
        if fmt == "cyclonedx":
            assert doc["specVersion"] == "1.5" and doc["components"][0]["purl"] == "pkg:npm/lodash@4.17.20"
            assert doc["vulnerabilities"][0]["id"] == "GHSA-0007"
        if fmt == "spdx":
            assert doc["spdxVersion"] == "SPDX-2.3" and doc["packages"][1]["name"] == "lodash"
        if fmt == "sarif":
            assert doc["runs"][0]["results"][0]["ruleId"] == "GHSA-0007"
    assert api_client_for(a["viewer"]).get(reverse("api:scan-report", args=[scan.pk]), {"fmt": "pdf"}).status_code == 400
    assert api_client_for(a["viewer"]).post(reverse("api:scan-list"), {"image": 1}, format="json").status_code in (403, 404)
    bad = api_client_for(a["operator"]).post(reverse("api:scan-list"), {"image": "x"}, format="json")
    assert bad.status_code == 400


@pytest.mark.parametrize("name", ["scans:overview", "scans:scan_list", "scans:audit_list", "scans:database_list",
                                  "scans:policy_list", "scans:suppression_list", "scans:exclusion_list"])
def test_pages_render(client, two_teams, name):
    client.force_login(two_teams["a"]["viewer"])
    assert client.get(reverse(name)).status_code == 200


def test_scan_detail_page_and_policy_form(client, two_teams):
    a = two_teams["a"]
    scan = Scan.objects.create(team=a["team"], image_ref="<b>web</b>:1", status=Scan.Status.SUCCEEDED)
    client.force_login(a["viewer"])
    page = client.get(reverse("scans:scan_detail", args=[scan.pk]))
    assert page.status_code == 200 and b"<b>web</b>" not in page.content and b"No vulnerability database" in page.content
    assert client.post(reverse("scans:policy_list"), {"name": "p", "rule": "no_privileged", "severity": "critical", "enforcement": "block"}).status_code == 403
    client.force_login(a["admin"])
    assert client.post(reverse("scans:policy_list"), {"name": "p", "rule": "bogus"}).status_code == 400
    assert client.post(reverse("scans:policy_list"), {"name": "p", "rule": "no_privileged", "severity": "critical", "enforcement": "block", "enabled": "on"}).status_code == 302
    assert Policy.objects.filter(team=a["team"], name="p").exists()
    client.force_login(two_teams["b"]["admin"])
    assert client.get(reverse("scans:scan_detail", args=[scan.pk])).status_code == 404
