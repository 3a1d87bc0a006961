"""Scan test images built on the real engine from dockerforge/busybox:test, their archives in
both layouts (skopeo), and a small OSV fixture."""

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.helpers import RUN_ID, TEST_LABEL, require_service, unique

DPKG_STATUS = textwrap.dedent("""\
    Package: libssl3
    Status: install ok installed
    Architecture: amd64
    Source: openssl (3.0.11-1~deb12u1)
    Version: 3.0.11-1~deb12u1

    Package: bash
    Status: install ok installed
    Version: 5.2.15-2+b2

    Package: zlib1g
    Status: install ok installed
    Source: zlib
    Version: 1:1.2.13.dfsg-1

    Package: oldpkg
    Status: deinstall ok config-files
    Version: 1.0-1
    """)
DPKG_STATUS_D = "Package: tzdata\nVersion: 2024a-0+deb12u1\n"
APK_INSTALLED = "C:Q1abc=\nP:musl\nV:1.2.4-r1\no:musl\n\nC:Q1def=\nP:busybox-extras\nV:1.36.1-r5\no:busybox\n\n"
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n'
PY_METADATA = "Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\nSummary: templates\n\nLong description\n"
PY_REMOVED = "Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n"
NODE_PKG = {"name": "lodash", "version": "4.17.20"}
NODE_SCOPED = {"name": "@types/node", "version": "20.1.0"}

SITE = "usr/lib/python3/dist-packages"

# The SBOM the test image must give: requests (removed by a later layer) is absent.
EXPECTED_SBOM = {
    ("apk", "busybox-extras", "1.36.1-r5"),
    ("apk", "musl", "1.2.4-r1"),
    ("deb", "bash", "5.2.15-2+b2"),
    ("deb", "libssl3", "3.0.11-1~deb12u1"),
    ("deb", "tzdata", "2024a-0+deb12u1"),
    ("deb", "zlib1g", "1:1.2.13.dfsg-1"),
    ("npm", "@types/node", "20.1.0"),
    ("npm", "lodash", "4.17.20"),
    ("pypi", "Jinja2", "3.1.2"),
}


def write_context(root: Path) -> None:
    files = {
        "etc/os-release": OS_RELEASE,
        "var/lib/dpkg/status": DPKG_STATUS,
        "var/lib/dpkg/status.d/tzdata": DPKG_STATUS_D,
        "lib/apk/db/installed": APK_INSTALLED,
        f"{SITE}/Jinja2-3.1.2.dist-info/METADATA": PY_METADATA,
        f"{SITE}/requests-2.25.0.dist-info/METADATA": PY_REMOVED,
        "app/node_modules/lodash/package.json": json.dumps(NODE_PKG),
        "app/node_modules/lodash/lib/package.json": json.dumps({"name": "not-a-package", "version": "0.0.1"}),
        "app/node_modules/@types/node/package.json": json.dumps(NODE_SCOPED),
    }
    for rel, text in files.items():
        path = root / "rootfs" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # One layer per ecosystem, then a layer that deletes one package (a whiteout).
    (root / "Dockerfile").write_text(textwrap.dedent(f"""\
        FROM dockerforge/busybox:test
        COPY rootfs/etc /etc
        COPY rootfs/var /var
        COPY rootfs/lib /lib
        COPY rootfs/usr /usr
        COPY rootfs/app /app
        RUN rm -rf /{SITE}/requests-2.25.0.dist-info
        ENV APP_PASSWORD=hunter2
        LABEL {TEST_LABEL}={RUN_ID}
        """))


def build_image(client, root: Path, tag: str) -> str:
    image, _logs = client.images.build(path=str(root), tag=tag, rm=True, forcerm=True, labels={TEST_LABEL: RUN_ID})
    return image.id


@pytest.fixture(scope="session")
def engine_client(docker_socket):
    import docker

    client = docker.DockerClient(base_url=docker_socket, version="1.41", timeout=120)
    yield client
    client.close()


@pytest.fixture(scope="session")
def scan_image(engine_client, tmp_path_factory):
    """The acceptance image: dpkg, apk, Python and node packages, one removed by a whiteout."""
    root = tmp_path_factory.mktemp("scan-image")
    write_context(root)
    tag = f"dockerforge/scan-test:{RUN_ID.lower()[:40]}"
    build_image(engine_client, root, tag)
    yield tag
    engine_client.images.remove(tag, force=True)


@pytest.fixture(scope="session")
def image_archives(scan_image, tmp_path_factory):
    """The same image as a legacy docker-archive and an OCI archive (skopeo)."""
    require_service("skopeo", shutil.which("skopeo") is not None)
    out = tmp_path_factory.mktemp("archives")
    paths = {}
    for layout in ("docker-archive", "oci-archive"):
        target = out / f"{layout}.tar"
        dest = f"{layout}:{target}" + (f":{scan_image}" if layout == "docker-archive" else "")
        subprocess.run(["skopeo", "copy", "--quiet", f"docker-daemon:{scan_image}", dest], check=True, capture_output=True, timeout=120)
        paths[layout] = str(target)
    return paths


@pytest.fixture
def local_host(db, docker_socket):
    """A DockerHost row for the machine's engine, in a fresh team."""
    from apps.accounts.models import Team
    from apps.hosts.models import DockerHost

    team = Team.objects.create(name=unique("scan-team"), slug=unique("scan-team"))
    return DockerHost.objects.create(team=team, name="local", url=docker_socket)


OSV_FIXTURE = [
    # openssl (source of libssl3): affected below 3.0.13-1~deb12u1 -> finding, fix 3.0.13-1~deb12u1
    {"id": "DSA-0001-1", "aliases": ["CVE-2099-0001"], "modified": "2026-01-01T00:00:00Z", "summary": "openssl bug",
     "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
     "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}]}]},
    # bash fixed at an older version -> no finding
    {"id": "DSA-0002-1", "modified": "2026-01-01T00:00:00Z",
     "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.2.15-1"}]}]}]},
    # zlib with epoch: last_affected 1:1.2.13.dfsg-1 -> finding, no fix
    {"id": "DSA-0003-1", "modified": "2026-01-01T00:00:00Z", "database_specific": {"severity": "high"},
     "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1:1.2.0"}, {"last_affected": "1:1.2.13.dfsg-1"}]}]}]},
    # musl in Alpine: affected from 1.2.4-r0, fixed 1.2.4-r3 -> finding
    {"id": "ALPINE-0004", "modified": "2026-01-01T00:00:00Z", "database_specific": {"severity": "medium"},
     "affected": [{"package": {"ecosystem": "Alpine:v3.18", "name": "musl"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.2.4-r0"}, {"fixed": "1.2.4-r3"}]}]}]},
    # Jinja2: affected 3.0.0..3.1.3 -> finding (name normalised)
    {"id": "GHSA-0005", "aliases": ["CVE-2099-0005"], "modified": "2026-01-01T00:00:00Z",
     "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N"}],
     "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja2"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.0.0"}, {"fixed": "3.1.3"}]}]}]},
    # requests: was removed by the whiteout -> no finding
    {"id": "GHSA-0006", "modified": "2026-01-01T00:00:00Z",
     "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.31.0"}]}]}]},
    # lodash via explicit versions list -> finding (critical)
    {"id": "GHSA-0007", "modified": "2026-01-01T00:00:00Z", "database_specific": {"severity": "CRITICAL"},
     "affected": [{"package": {"ecosystem": "npm", "name": "lodash"}, "versions": ["4.17.19", "4.17.20"],
                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "4.0.0"}, {"fixed": "4.17.21"}]}]}]},
    # lodash out of range (introduced later) -> no finding
    {"id": "GHSA-0008", "modified": "2026-01-01T00:00:00Z",
     "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "4.17.21"}, {"fixed": "4.17.22"}]}]}]},
    # another ecosystem's package of the same name -> no finding
    {"id": "GHSA-0009", "modified": "2026-01-01T00:00:00Z",
     "affected": [{"package": {"ecosystem": "PyPI", "name": "lodash"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]},
]

# (vulnerability id, package, installed, fixed, severity)
EXPECTED_FINDINGS = {
    ("DSA-0001-1", "libssl3", "3.0.11-1~deb12u1", "3.0.13-1~deb12u1", "critical"),
    ("DSA-0003-1", "zlib1g", "1:1.2.13.dfsg-1", "", "high"),
    ("GHSA-0005", "Jinja2", "3.1.2", "3.1.3", "medium"),
    ("GHSA-0007", "lodash", "4.17.20", "4.17.21", "critical"),
    # apk packages in a non-Alpine image match every Alpine release's records
    ("ALPINE-0004", "musl", "1.2.4-r1", "1.2.4-r3", "medium"),
}
