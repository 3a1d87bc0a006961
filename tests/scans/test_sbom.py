"""SBOM acceptance on a locally built image: exact packages (one removed by a whiteout), the
same from the engine stream, the legacy archive and the OCI archive, and exact findings."""

import pytest

from apps.scans import services
from apps.scans.models import Finding, Scan
from apps.scans.sbom import parse_dpkg, scan_file

from .conftest import EXPECTED_FINDINGS, EXPECTED_SBOM, OSV_FIXTURE


def triples(sbom):
    return {(p.type, p.name, p.version) for p in sbom.packages}


def test_dpkg_parser_reads_sources_and_skips_removed():
    from .conftest import DPKG_STATUS

    packages = {p.name: p for p in parse_dpkg(DPKG_STATUS, "var/lib/dpkg/status", "")}
    assert set(packages) == {"libssl3", "bash", "zlib1g"}  # oldpkg is deinstalled
    assert (packages["libssl3"].source_name, packages["libssl3"].source_version) == ("openssl", "3.0.11-1~deb12u1")
    assert (packages["zlib1g"].source_name, packages["zlib1g"].source_version) == ("zlib", "1:1.2.13.dfsg-1")


@pytest.mark.docker
def test_engine_stream_gives_exact_sbom(local_host, scan_image, engine_client):
    from apps.engine.images_export import save_chunks
    from apps.hosts.services import client_for
    from apps.scans.sbom import scan_stream

    client = client_for(local_host, timeout=60)
    try:
        sbom = scan_stream(save_chunks(client, scan_image))
    finally:
        client.close()
    assert triples(sbom) == EXPECTED_SBOM
    assert (sbom.os.id, sbom.os.version_id) == ("debian", "12")
    assert len(sbom.layers) >= 6
    assert all(p.layer for p in sbom.packages)


@pytest.mark.docker
def test_legacy_and_oci_archives_give_the_same_sbom(image_archives):
    legacy = scan_file(image_archives["docker-archive"])
    oci = scan_file(image_archives["oci-archive"])
    assert (legacy.layout, oci.layout) == ("docker-archive", "oci")
    assert triples(legacy) == triples(oci) == EXPECTED_SBOM
    assert [p.as_dict() | {"layer": ""} for p in legacy.packages] == [p.as_dict() | {"layer": ""} for p in oci.packages]


@pytest.mark.docker
def test_scan_of_mirrored_image_gives_exact_findings(local_host, scan_image, engine_client, make_user, django_capture_on_commit_callbacks):
    from apps.containers.models import Image
    from apps.core.roles import Role

    team = local_host.team
    services.import_records(team, OSV_FIXTURE, name="fixture")
    docker_id = engine_client.images.get(scan_image).id
    image = Image.objects.create(team=team, host=local_host, docker_id=docker_id, repo_tags=[scan_image])
    operator = make_user(team, Role.OPERATOR)
    with django_capture_on_commit_callbacks(execute=True):
        op = services.request_scan(operator, image)
    op.refresh_from_db()
    assert op.status == "succeeded", op.error
    scan = Scan.objects.get(operation=op)
    assert scan.status == Scan.Status.SUCCEEDED
    got = {(f.vulnerability_id, f.package, f.version, f.fixed_version, f.severity) for f in Finding.objects.filter(scan=scan)}
    assert got == EXPECTED_FINDINGS
    assert scan.counts["critical"] == 2
    # Image checks after Dockle: root user, no HEALTHCHECK, a secret-looking ENV (name only).
    failing = {c["id"]: c for c in scan.image_checks if c["status"] == "fail"}
    assert {"CIS-DI-0001", "CIS-DI-0006", "CIS-DI-0010"} <= set(failing)
    assert "APP_PASSWORD" in failing["CIS-DI-0010"]["evidence"] and "hunter2" not in str(scan.image_checks)


@pytest.mark.docker
def test_archive_scan_matches_like_engine_scan(db, make_team, image_archives):
    team = make_team()
    services.import_records(team, OSV_FIXTURE, name="fixture")
    results = []
    for layout, path in image_archives.items():
        scan = services.scan_archive(team, path, f"scan-test:{layout}")
        results.append({(f.vulnerability_id, f.package, f.version, f.fixed_version, f.severity) for f in scan.findings.all()})
    assert results[0] == results[1] == EXPECTED_FINDINGS
