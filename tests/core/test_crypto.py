import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from apps.core import crypto
from apps.hosts.models import DockerHost

pytestmark = pytest.mark.django_db


def raw_key_column(host_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tls_client_key FROM hosts_dockerhost WHERE id = %s", [host_id])
        return cursor.fetchone()[0]


def test_encrypted_field_stores_ciphertext(make_team):
    host = DockerHost.objects.create(team=make_team(), name="h", url="tcp://127.0.0.1:1", tls_client_key="SECRET-PEM-BODY")
    stored = raw_key_column(host.pk)
    assert "SECRET-PEM-BODY" not in stored
    assert DockerHost.objects.get(pk=host.pk).tls_client_key == "SECRET-PEM-BODY"


def test_key_rotation_reencrypts_with_newest_key(make_team, settings):
    old = settings.ENCRYPTION_KEYS[0]
    host = DockerHost.objects.create(team=make_team(), name="h", url="tcp://127.0.0.1:1", tls_client_key="ROTATE-ME")
    new = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new, old]
    assert DockerHost.objects.get(pk=host.pk).tls_client_key == "ROTATE-ME"  # old key still reads
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))
    settings.ENCRYPTION_KEYS = [new]  # the old key is gone now
    assert Fernet(new.encode()).decrypt(raw_key_column(host.pk).encode()) == b"ROTATE-ME"
    assert DockerHost.objects.get(pk=host.pk).tls_client_key == "ROTATE-ME"


def test_wrong_key_gives_clear_error(make_team, settings):
    host = DockerHost.objects.create(team=make_team(), name="h", url="tcp://127.0.0.1:1", tls_client_key="X")
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError, match="cannot be decrypted"):
        DockerHost.objects.get(pk=host.pk)
