import pytest

from apps.hosts.models import DockerHost


@pytest.fixture
def make_host(db):
    """A host row as registration would leave it (validation is tested on its own)."""

    def make(team, url="tcp://127.0.0.1:1", name=None, **fields):
        name = name or f"host-{DockerHost.objects.count() + 1}"
        return DockerHost.objects.create(team=team, name=name, url=url, **fields)

    return make


@pytest.fixture
def tls_host_fields(tls_engine):
    m = tls_engine.material
    return {"url": tls_engine.url, "tls_ca_cert": m.ca.pem, "tls_client_cert": m.client_cert, "tls_client_key": m.client_key}


@pytest.fixture
def ssh_host_fields(ssh_server):
    return {"url": ssh_server.url, "ssh_private_key": ssh_server.client_key}
