"""The shared validation module (form, admin and API all use it)."""

import pytest
from django.core.exceptions import ValidationError

from apps.hosts.models import DockerHost
from apps.hosts.validation import parse_url, validate_host, validate_tls
from tests.fixtures.engines import CertAuthority


@pytest.mark.parametrize(
    "url, message",
    [
        ("", "Enter the engine URL"),
        ("10.0.0.5:2376", "needs a scheme"),
        ("http://10.0.0.5:2376", "Unsupported scheme 'http'"),
        ("tcp://", "needs a host"),
        ("tcp://10.0.0.5:99999", "Malformed URL"),
        ("tcp://10.0.0.5:abc", "Malformed URL"),
        ("tcp://10.0.0.5:0", "between 1 and 65535"),
        ("tcp://user:pw@10.0.0.5:2376", "must not contain a user name"),
        ("tcp://10.0.0.5:2376/path", "must not have a path"),
        ("tcp://10.0.0.5:2376?x=1", "query string"),
        ("tcp://exa mple.com:2376", "spaces"),
        ("tcp://bad_host!:2376", "not a valid host name"),
        ("ssh://10.0.0.5", "needs a user"),
        ("ssh://root:secret@10.0.0.5", "Do not put a password"),
        ("unix://var/run/docker.sock", "three slashes"),
        ("unix:///", "absolute path"),
        ("tcp://" + "a" * 100_000, "too long"),
    ],
)
def test_malformed_urls_give_clear_errors(url, message):
    with pytest.raises(ValidationError) as err:
        parse_url(url)
    assert message in " ".join(err.value.messages)


def test_well_formed_urls_parse():
    assert parse_url("unix:///var/run/docker.sock").path == "/var/run/docker.sock"
    assert parse_url("tcp://10.0.0.5:2376").address == ("10.0.0.5", 2376)
    ssh = parse_url("ssh://deploy@docker-1.internal")
    assert (ssh.user, ssh.host, ssh.port) == ("deploy", "docker-1.internal", 22)
    assert parse_url("tcp://[fd00::5]:2376").host == "fd00::5"


def test_tls_material_is_checked_with_cryptography():
    ca = CertAuthority.create("ca")
    cert, key = ca.issue("client", server=False)
    _, other_key = ca.issue("other", server=False)
    assert validate_tls(ca.pem, cert, key) == {}
    assert validate_tls(ca.pem, cert, other_key) == {"tls_client_key": ["This key does not match the client certificate."]}
    assert "not a PEM certificate" in validate_tls("garbage", "", "")["tls_ca_cert"][0]
    assert "not a PEM private key" in validate_tls("", cert, "garbage")["tls_client_key"][0]
    assert validate_tls("", cert, "")["tls_client_key"] == ["Give the client certificate and its key together."]


@pytest.mark.django_db
def test_unix_is_for_superusers_only(two_teams, superuser):
    admin, team = two_teams["a"]["admin"], two_teams["a"]["team"]
    with pytest.raises(ValidationError) as err:
        validate_host({"name": "local", "url": "unix:///var/run/docker.sock"}, user=admin, team=team)
    assert err.value.message_dict["url"] == ["Only installation superusers may register unix:// hosts (the server's own engine)."]
    values = validate_host({"name": "local", "url": "unix:///var/run/docker.sock"}, user=superuser, team=team)
    assert values["url"] == "unix:///var/run/docker.sock"


@pytest.mark.django_db
def test_default_outbound_policy_denies_loopback_and_metadata(two_teams, settings):
    settings.OUTBOUND_ALLOW = []  # the installation default (conftest allows loopback for tests)
    admin, team = two_teams["a"]["admin"], two_teams["a"]["team"]
    for url, reason in (
        ("tcp://127.0.0.1:2376", "loopback addresses are not allowed"),
        ("tcp://169.254.169.254:2376", "cloud metadata addresses are not allowed"),
        ("tcp://169.254.10.10:2376", "link-local addresses are not allowed"),
        ("ssh://root@127.0.0.1:22", "loopback addresses are not allowed"),
    ):
        with pytest.raises(ValidationError) as err:
            validate_host({"name": "h", "url": url}, user=admin, team=team)
        assert reason in err.value.message_dict["url"][0], url
    # Private ranges stay allowed: Docker hosts live there (no connection is made for tcp://).
    assert validate_host({"name": "h", "url": "tcp://10.1.2.3:2375"}, user=admin, team=team)["url"] == "tcp://10.1.2.3:2375"


@pytest.mark.django_db
def test_duplicate_names_per_team(two_teams):
    a, b = two_teams["a"], two_teams["b"]
    DockerHost.objects.create(team=a["team"], name="prod", url="tcp://127.0.0.1:1")
    with pytest.raises(ValidationError) as err:
        validate_host({"name": "PROD", "url": "tcp://127.0.0.1:2"}, user=a["admin"], team=a["team"])
    assert "already has a host named" in err.value.message_dict["name"][0]
    # Another team may use the name.
    assert validate_host({"name": "prod", "url": "tcp://127.0.0.1:2"}, user=b["admin"], team=b["team"])


@pytest.mark.django_db
def test_scheme_specific_material(two_teams):
    a = two_teams["a"]
    ca = CertAuthority.create("ca")
    with pytest.raises(ValidationError) as err:
        validate_host({"name": "h", "url": "ssh://root@127.0.0.1:1", "tls_ca_cert": ca.pem}, user=a["admin"], team=a["team"])
    errors = err.value.message_dict
    assert errors["tls_ca_cert"] == ["TLS certificates only apply to tcp:// hosts."]
    assert errors["ssh_private_key"] == ["An ssh:// host needs the private key DockerForge logs in with."]
    with pytest.raises(ValidationError) as err:
        validate_host({"name": "h", "url": "ssh://root@127.0.0.1:1", "ssh_private_key": "nope"}, user=a["admin"], team=a["team"])
    assert "Not a valid unencrypted" in err.value.message_dict["ssh_private_key"][0]
