"""OSV import (file, directory, zip, command), staleness, range evaluation, re-matching with
scan.new_findings, suppressions, diff and ranking — on SBOMs stored like a real scan's."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.activity.models import Event
from apps.scans import osv, services
from apps.scans.models import Finding, Scan, Suppression, VulnerabilityDatabase
from apps.scans.sbom import SBOM, OSInfo, Package

from .conftest import OSV_FIXTURE


def _sbom(*packages, os_id="debian", version="12") -> dict:
    return SBOM(os=OSInfo(id=os_id, version_id=version), packages=list(packages)).as_dict()


def _scan(team, ref="app:1", **pkgs) -> Scan:
    return Scan.objects.create(team=team, image_ref=ref, repo=services.repo_of(ref), status=Scan.Status.SUCCEEDED,
                               sbom=_sbom(*pkgs.get("packages", [])))


LODASH = Package("npm", "lodash", "4.17.20", path="app/node_modules/lodash/package.json")
JINJA = Package("pypi", "Jinja2", "3.1.2")


@pytest.mark.parametrize("version,events,versions,want", [
    ("1.5.0", [{"introduced": "0"}, {"fixed": "2.0.0"}], [], (True, "2.0.0")),
    ("2.0.0", [{"introduced": "0"}, {"fixed": "2.0.0"}], [], (False, "")),
    ("0.9.0", [{"introduced": "1.0.0"}, {"fixed": "2.0.0"}], [], (False, "")),
    ("1.2.0", [{"introduced": "1.0.0"}, {"last_affected": "1.2.0"}], [], (True, "")),
    ("1.2.1", [{"introduced": "1.0.0"}, {"last_affected": "1.2.0"}], [], (False, "")),
    ("3.1.0", [{"introduced": "1.0.0"}, {"fixed": "2.0.0"}, {"introduced": "3.0.0"}, {"fixed": "3.2.0"}], [], (True, "3.2.0")),
    ("2.5.0", [{"introduced": "1.0.0"}, {"fixed": "2.0.0"}, {"introduced": "3.0.0"}, {"fixed": "3.2.0"}], [], (False, "")),
    ("9.9.9-odd", [], ["9.9.9-odd"], (True, "")),
])
def test_osv_range_evaluation(version, events, versions, want):
    assert osv.affected_fix(version, "npm", [{"type": "SEMVER", "events": events}] if events else [], versions) == want


def test_cvss_base_score():
    assert osv.cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == 9.8
    assert osv.cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H") == 10.0
    assert osv.cvss3_base_score("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N") == 5.5
    assert osv.cvss3_base_score("garbage") is None


def test_import_directory_zip_and_command(db, make_team, tmp_path):
    team = make_team()
    folder = tmp_path / "osv"
    (folder / "sub").mkdir(parents=True)
    for record in OSV_FIXTURE[:5]:
        (folder / "sub" / f"{record['id']}.json").write_text(json.dumps(record))
    db1 = services.import_path(team, str(folder))
    assert db1.record_count == 5 and set(db1.ecosystems) == {"Debian:12", "Alpine:v3.18", "PyPI"}
    archive = tmp_path / "osv.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for record in OSV_FIXTURE:
            zf.writestr(f"{record['id']}.json", json.dumps(record))
    call_command("import_osv", str(archive), "--team", team.slug, "--name", "all", stdout=io.StringIO())
    db2 = VulnerabilityDatabase.objects.get(team=team, name="all")
    assert db2.record_count == len(OSV_FIXTURE)
    assert db2.newest_record_at.year == 2026


def test_bad_osv_upload_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"no": "id"}')
    with pytest.raises(osv.OSVError, match="not an OSV record"):
        list(osv.read_path(str(bad)))


def test_staleness_shows_on_reports(db, make_team, settings):
    from apps.scans import reports

    team = make_team()
    db = services.import_records(team, OSV_FIXTURE, name="old")
    VulnerabilityDatabase.objects.filter(pk=db.pk).update(newest_record_at=timezone.now() - timedelta(days=30))
    settings.SCANS_DB_STALE_DAYS = 7
    scan = _scan(team, packages=[LODASH])
    services.match_scan(scan)
    scan.refresh_from_db()
    assert scan.stale_databases and scan.stale_databases[0]["name"] == "old"
    assert reports.to_json(scan)["stale"] is True
    assert reports.to_sarif(scan)["runs"][0]["properties"]["stale"] is True


def test_rematch_on_database_update_publishes_new_criticals(db, make_team, django_capture_on_commit_callbacks):
    team = make_team()
    scan = _scan(team, packages=[LODASH, JINJA])
    services.match_scan(scan)
    assert not Finding.objects.filter(scan=scan).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.import_records(team, OSV_FIXTURE, name="fixture")
        assert services.rematch_team(team) == 1
    assert set(Finding.objects.filter(scan=scan).values_list("vulnerability_id", flat=True)) == {"GHSA-0005", "GHSA-0007"}
    event = Event.objects.get(team=team, kind="scan.new_findings")
    assert event.payload["data"]["findings"][0]["id"] == "GHSA-0007"
    # Matching again finds nothing new: no second event.
    services.rematch_team(team)
    assert Event.objects.filter(team=team, kind="scan.new_findings").count() == 1


def test_suppressions_with_reason_and_expiry(db, make_team):
    team = make_team()
    services.import_records(team, OSV_FIXTURE, name="fixture")
    scan = _scan(team, packages=[LODASH, JINJA])
    services.match_scan(scan)
    sup = Suppression.objects.create(team=team, vulnerability_id="GHSA-0007", reason="not reachable")
    services.apply_suppressions(team)
    assert set(Finding.objects.filter(scan=scan).unsuppressed().values_list("vulnerability_id", flat=True)) == {"GHSA-0005"}
    scan.refresh_from_db()
    assert scan.counts["critical"] == 0
    # By alias, and an expired one no longer hides the finding.
    Suppression.objects.filter(pk=sup.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Finding.objects.filter(scan=scan).unsuppressed().count() == 2
    Suppression.objects.create(team=team, vulnerability_id="CVE-2099-0005", package="Jinja2", reason="accepted risk")
    services.apply_suppressions(team)
    assert set(Finding.objects.filter(scan=scan).unsuppressed().values_list("vulnerability_id", flat=True)) == {"GHSA-0007"}


def test_diff_between_two_scans_of_one_repo(db, make_team):
    team = make_team()
    services.import_records(team, OSV_FIXTURE, name="fixture")
    old = _scan(team, "app:1", packages=[LODASH, JINJA])
    new = _scan(team, "app:2", packages=[Package("npm", "lodash", "4.17.21"), JINJA])
    services.match_scan(old)
    services.match_scan(new)
    assert old.repo == new.repo == "app"
    diff = services.diff_scans(old, new)
    assert [f.vulnerability_id for f in diff["removed"]] == ["GHSA-0007"]
    assert [f.vulnerability_id for f in diff["added"]] == ["GHSA-0008"]  # 4.17.21 is in its range
    assert [f.vulnerability_id for f in diff["unchanged"]] == ["GHSA-0005"]


def test_exposed_containers_rank_higher(db, make_team):
    from apps.containers.models import Container
    from apps.hosts.models import DockerHost

    team = make_team()
    host = DockerHost.objects.create(team=team, name="h", url="tcp://127.0.0.1:1")
    services.import_records(team, OSV_FIXTURE, name="fixture")
    quiet = _scan(team, "quiet:1", packages=[JINJA])
    loud = _scan(team, "loud:1", packages=[JINJA])
    Scan.objects.filter(pk=loud.pk).update(image_digest="sha256:loud")
    loud.refresh_from_db()
    Container.objects.create(team=team, host=host, docker_id="c1", name="c1", image_id="sha256:loud",
                             ports=[{"private": 80, "protocol": "tcp", "host_ip": "0.0.0.0", "public": 80}], inspect={"HostConfig": {"Privileged": True, "NetworkMode": "host"}})
    services.match_scan(quiet)
    services.match_scan(loud)
    loud.refresh_from_db()
    assert loud.exposure == ["host-network", "ports", "privileged"]
    assert Finding.objects.get(scan=loud).rank > Finding.objects.get(scan=quiet).rank


def test_trivy_and_grype_json_import(db, make_team):
    from apps.scans import adapters

    trivy = {"Results": [{"Type": "debian", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2099-1", "PkgName": "openssl", "InstalledVersion": "3.0.11", "FixedVersion": "3.0.13",
         "Severity": "CRITICAL", "Title": "t", "CVSS": {"nvd": {"V3Score": 9.8}}}]}]}
    grype = {"matches": [{"vulnerability": {"id": "GHSA-x", "severity": "Medium", "fix": {"versions": ["2.0"]}, "urls": ["https://example.test/x"]},
                          "artifact": {"name": "lib", "version": "1.0", "type": "python", "purl": "pkg:pypi/lib@1.0"}}]}
    assert adapters.read_trivy(trivy)[0]["cvss"] == 9.8
    team = make_team()
    scan = Scan.objects.create(team=team, image_ref="x:1")
    adapters.import_findings(scan, adapters.read_trivy(trivy) + adapters.read_grype(grype), "trivy")
    scan.refresh_from_db()
    assert scan.counts["critical"] == 1 and scan.counts["medium"] == 1
    assert Finding.objects.get(scan=scan, package="lib").fixed_version == "2.0"
