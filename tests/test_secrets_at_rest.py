"""No secret is ever stored in plaintext: after a realistic session of creating and updating
hosts with TLS and SSH keys (through the API, so audit runs), issuing API tokens, recording
operations and events, the WHOLE database — as `dumpdata` and as raw `SELECT *` of every
table — contains none of the plaintext secrets."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse

from apps.activity.models import AuditEvent
from apps.core import actor as actor_ctx
from apps.core import events
from apps.core.roles import Role
from apps.hosts.models import DockerHost

from .pem import ssh_private_key as ssh_pem
from .pem import tls_client_pair

pytestmark = pytest.mark.django_db


def distinctive_lines(pem: str) -> list[str]:
    """Lines of the key body (not the BEGIN/END armour, which every key shares)."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----") and len(line) >= 20]


def whole_database() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    parts = [out.getvalue()]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            parts.append(repr(cursor.fetchall()))
    return "\n".join(parts)


def assert_absent(dump: str, secrets: dict[str, str]):
    for what, secret in secrets.items():
        assert secret not in dump, f"{what} is stored in plaintext"
        # JSON dumps escape newlines and slashes: look for the escaped form too.
        assert json.dumps(secret)[1:-1] not in dump, f"{what} is stored in plaintext (JSON-escaped)"


def route(name, **kwargs):
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def test_no_plaintext_secret_anywhere_in_the_database(two_teams, api_client, superuser):
    team, admin = two_teams["a"]["team"], two_teams["a"][Role.ADMIN]
    (cert, tls_key), (cert_2, tls_key_2), ssh_key = tls_client_pair(), tls_client_pair(), ssh_pem()
    secrets: dict[str, str] = {"tls key": tls_key, "rotated tls key": tls_key_2, "ssh key": ssh_key}
    for name, pem in (("tls", tls_key), ("tls2", tls_key_2), ("ssh", ssh_key)):
        for n, line in enumerate(distinctive_lines(pem)):
            secrets[f"{name} key line {n}"] = line

    # API tokens: the raw key is shown once and never stored.
    resp = Client().post("/api/v1/auth/token/", {"username": admin.username, "password": "pw-" + admin.username}, content_type="application/json")
    assert resp.status_code == 201
    secrets["api token"] = resp.json()["token"]
    secrets["password"] = "pw-" + admin.username
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {secrets['api token']}"

    # A TLS host created and its key rotated through the API: both audited.
    resp = client.post("/api/v1/hosts/", {"team": team.pk, "name": "tls-host", "url": "tcp://127.0.0.1:1", "tls_client_cert": cert, "tls_client_key": tls_key}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    host_id = resp.json()["id"]
    resp = client.patch(f"/api/v1/hosts/{host_id}/", {"tls_client_cert": cert_2, "tls_client_key": tls_key_2, "description": "rotated"}, content_type="application/json")
    assert resp.status_code == 200, resp.content
    assert DockerHost.objects.get(pk=host_id).tls_client_key.strip() == tls_key_2.strip()  # readable by the app
    # An SSH host saved by a person in the UI (audit runs with the actor set).
    with actor_ctx.acting(actor_ctx.actor_for_user(admin, "ui", "req-ssh")):
        ssh_host = DockerHost.objects.create(team=team, name="ssh-host", url="ssh://dockerforge@127.0.0.1:1", ssh_private_key=ssh_key)
        ssh_host.description = "edited"
        ssh_host.save()
    audited = AuditEvent.objects.filter(object_type="hosts.dockerhost")
    assert audited.filter(action="create").count() == 2 and audited.filter(action="update").count() == 2

    # Routes the hosts branch adds: testing a connection records an operation and events.
    test_url = route("api:host-test", pk=host_id)
    if test_url:
        client.post(test_url, {}, content_type="application/json")
    # The hosts admin (hosts branch): an admin change writes a LogEntry.
    add_url = route("admin:hosts_dockerhost_add")
    if add_url:
        admin.is_staff = True
        admin.save()
        staff = Client()
        staff.force_login(admin)
        staff.post(add_url, {"team": team.pk, "name": "admin-host", "url": "tcp://127.0.0.1:1", "tls_client_cert": cert, "tls_client_key": tls_key})

    # Operations and events published while working with the host.
    from apps.activity import operations
    from apps.activity.models import Operation

    op = Operation.objects.create(team=team, kind="hosts.test", target_name="tls-host", created_by=admin)
    operations.Progress(op).log("connecting to tcp://127.0.0.1:1 with the host's client certificate")
    events.publish("host.down", team, severity="error", summary="tls-host is unreachable", data={"host": host_id})

    dump = whole_database()
    assert "tls-host" in dump and "ssh-host" in dump  # the dump is real
    assert_absent(dump, secrets)


def test_dumpdata_round_trip_keeps_secrets_encrypted(two_teams, tmp_path):
    """dumpdata writes the ciphertext (marked); loaddata restores the same plaintext."""
    key = ssh_pem()
    host = DockerHost.objects.create(team=two_teams["a"]["team"], name="rt", url="tcp://127.0.0.1:1", ssh_private_key=key)
    fixture = tmp_path / "hosts.json"
    call_command("dumpdata", "hosts.dockerhost", output=str(fixture))
    text = fixture.read_text()
    assert key not in text and json.dumps(key)[1:-1] not in text and '"fernet:' in text
    DockerHost.objects.filter(pk=host.pk).update(ssh_private_key="")
    call_command("loaddata", str(fixture), verbosity=0)
    assert DockerHost.objects.get(pk=host.pk).ssh_private_key == key
