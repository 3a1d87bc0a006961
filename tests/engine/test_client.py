"""The client factory against real engines: the local socket, a TLS dockerd, an sshd."""

import time

import docker
import pytest

from apps import engine
from apps.engine.client import connect, fetch_ssh_host_key
from apps.engine.errors import PermanentEngineError, TransientEngineError, translate
from apps.engine.ssh import InvalidKey, load_private_key, public_key_from_text


def test_refused_port_is_transient_and_fast():
    started = time.monotonic()
    with pytest.raises(TransientEngineError) as err:
        engine.info(connect("tcp://127.0.0.1:1", timeout=3))
    assert time.monotonic() - started < 3
    assert "Connection refused by 127.0.0.1:1" in str(err.value)


def test_unknown_scheme_is_permanent():
    with pytest.raises(PermanentEngineError, match="Unsupported engine URL scheme"):
        connect("http://127.0.0.1:2375")


def test_translate_maps_status_codes():
    class Response:
        def __init__(self, code):
            self.status_code = code
            self.reason = "x"

    def api_error(code):
        return docker.errors.APIError("boom", response=Response(code), explanation="nope")

    assert isinstance(translate(api_error(500)), TransientEngineError)
    assert isinstance(translate(api_error(403)), PermanentEngineError)
    assert translate(api_error(404)).status_code == 404


def test_private_key_parsing_rejects_garbage():
    with pytest.raises(InvalidKey):
        load_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n-----END OPENSSH PRIVATE KEY-----")
    with pytest.raises(InvalidKey):
        public_key_from_text("ssh-ed25519 !!!")


@pytest.mark.docker
def test_local_engine_reports_its_real_version(docker_socket):
    reference = docker.DockerClient(base_url=docker_socket, version="1.41").version()
    facts = engine.info(connect(docker_socket))
    assert facts.version == reference["Version"]
    assert facts.api_version == reference["ApiVersion"]
    assert facts.cpus > 0 and facts.memory_bytes > 0


@pytest.mark.docker
def test_tls_engine_uses_the_hosts_ca_even_with_env_bundles(tls_engine, monkeypatch, tmp_path):
    m = tls_engine.material
    # A CA bundle that does not contain the engine's CA, set the way users (and this machine) do.
    bundle = tmp_path / "other-bundle.pem"
    bundle.write_text(m.other_ca.pem)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(bundle))
    client = connect(tls_engine.url, tls_ca=m.ca.pem, tls_cert=m.client_cert, tls_key=m.client_key)
    facts = engine.info(client)
    assert facts.version and facts.api_version


@pytest.mark.docker
def test_tls_engine_with_wrong_ca_is_refused_clearly(tls_engine):
    m = tls_engine.material
    client = connect(tls_engine.url, tls_ca=m.other_ca.pem, tls_cert=m.client_cert, tls_key=m.client_key)
    with pytest.raises(PermanentEngineError) as err:
        engine.info(client)
    assert str(err.value) == "TLS verification failed: the server certificate is not signed by the host's CA"


@pytest.mark.docker
def test_tls_engine_without_client_cert_is_refused(tls_engine):
    client = connect(tls_engine.url, tls_ca=tls_engine.material.ca.pem)
    with pytest.raises(PermanentEngineError, match="client certificate"):
        engine.info(client)


@pytest.mark.docker
def test_tls_material_leaves_no_files_behind(tls_engine, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    m = tls_engine.material
    engine.info(connect(tls_engine.url, tls_ca=m.ca.pem, tls_cert=m.client_cert, tls_key=m.client_key))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.docker
def test_ssh_host_answers_with_pinned_key(ssh_server, docker_socket):
    key_type, blob, fp = fetch_ssh_host_key(ssh_server.host, ssh_server.port, timeout=5)
    assert f"{key_type} {blob}" == ssh_server.host_key_public.strip()
    assert fp.startswith("SHA256:")
    client = connect(ssh_server.url, ssh_private_key=ssh_server.client_key, ssh_host_key=f"{key_type} {blob}")
    reference = docker.DockerClient(base_url=docker_socket, version="1.41").version()
    assert engine.info(client).version == reference["Version"]
    client.close()


@pytest.mark.docker
def test_ssh_changed_host_key_is_refused(ssh_server):
    with pytest.raises(PermanentEngineError) as err:
        connect(ssh_server.url, ssh_private_key=ssh_server.client_key, ssh_host_key=ssh_server.other_host_key_public)
    assert "SSH host key mismatch" in str(err.value)
    _, _, presented = fetch_ssh_host_key(ssh_server.host, ssh_server.port, timeout=5)
    assert presented in str(err.value)


@pytest.mark.docker
def test_ssh_wrong_private_key_is_refused(ssh_server):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from tests.fixtures.engines import openssh_private

    with pytest.raises(PermanentEngineError, match="SSH authentication"):
        connect(
            ssh_server.url,
            ssh_private_key=openssh_private(ed25519.Ed25519PrivateKey.generate()),
            ssh_host_key=ssh_server.host_key_public,
        )
