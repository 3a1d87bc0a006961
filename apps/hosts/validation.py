"""Validation shared by the host form, the admin and the API serializer (one module, so the
rules cannot drift). Raises django.core.exceptions.ValidationError with field errors."""

from __future__ import annotations

import ipaddress
import urllib.parse
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError

from apps.core.outbound import OutboundAddressDenied, check_address

URL_MAX = 500
PEM_MAX = 20_000
SCHEMES = ("unix", "tcp", "ssh")
SECRET_FIELDS = ("tls_client_key", "ssh_private_key")
TLS_FIELDS = ("tls_ca_cert", "tls_client_cert", "tls_client_key")
PIN_TIMEOUT = 5.0


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str = ""
    port: int | None = None
    user: str = ""
    path: str = ""

    @property
    def address(self) -> tuple[str, int | None]:
        return self.host, self.port


def parse_url(url: str) -> Endpoint:
    """A well-formed unix://, tcp:// or ssh:// engine URL, or a ValidationError saying why not."""
    url = (url or "").strip()
    if not url:
        raise ValidationError("Enter the engine URL, e.g. tcp://10.0.0.5:2376 or ssh://root@10.0.0.5:22.")
    if len(url) > URL_MAX:
        raise ValidationError(f"The URL is too long ({len(url)} characters; at most {URL_MAX}).")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationError("The URL must not contain spaces or control characters.")
    if "://" not in url:
        raise ValidationError("The URL needs a scheme: unix://, tcp:// or ssh://.")
    try:
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port
    except ValueError as exc:
        raise ValidationError(f"Malformed URL: {exc}.") from None
    scheme = parsed.scheme.lower()
    if scheme not in SCHEMES:
        raise ValidationError(f"Unsupported scheme {parsed.scheme!r}: use unix://, tcp:// or ssh://.")
    if parsed.query or parsed.fragment:
        raise ValidationError("The URL must not have a query string or fragment.")
    if scheme == "unix":
        return _unix(parsed)
    host = parsed.hostname or ""
    if not host:
        raise ValidationError(f"A {scheme}:// URL needs a host, e.g. {scheme}://10.0.0.5:{2376 if scheme == 'tcp' else 22}.")
    _check_hostname(host)
    if parsed.path not in ("", "/"):
        raise ValidationError(f"A {scheme}:// URL must not have a path.")
    if port == 0:
        raise ValidationError("The port must be between 1 and 65535.")
    if scheme == "tcp":
        if parsed.username or parsed.password:
            raise ValidationError("A tcp:// URL must not contain a user name or password.")
        return Endpoint("tcp", host, port)
    if parsed.password:
        raise ValidationError("Do not put a password in the URL: ssh:// hosts use a private key.")
    if not parsed.username:
        raise ValidationError("An ssh:// URL needs a user, e.g. ssh://root@10.0.0.5:22.")
    return Endpoint("ssh", host, port or 22, parsed.username)


def _unix(parsed) -> Endpoint:
    if parsed.netloc:
        raise ValidationError("A unix:// URL has no host: write unix:///var/run/docker.sock (three slashes).")
    if not parsed.path.startswith("/") or parsed.path == "/":
        raise ValidationError("A unix:// URL needs the absolute path of the socket, e.g. unix:///var/run/docker.sock.")
    return Endpoint("unix", path=parsed.path)


def _check_hostname(host: str) -> None:
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    ok = all(0 < len(label) <= 63 and label.replace("-", "").replace("_", "").isalnum() for label in labels)
    if not ok or len(host) > 253 or not host.isascii():
        raise ValidationError(f"{host!r} is not a valid host name or IP address.")


# --- PEM material --------------------------------------------------------------------------

def _load_certs(text: str, what: str) -> list[x509.Certificate]:
    if len(text) > PEM_MAX:
        raise ValidationError(f"The {what} is too long (at most {PEM_MAX} characters).")
    try:
        certs = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        raise ValidationError(f"The {what} is not a PEM certificate (-----BEGIN CERTIFICATE-----).") from None
    return certs


def _load_key(text: str):
    if len(text) > PEM_MAX:
        raise ValidationError(f"The client key is too long (at most {PEM_MAX} characters).")
    try:
        return serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        raise ValidationError("The client key is encrypted with a passphrase; give an unencrypted key.") from None
    except (ValueError, Exception):  # noqa: BLE001 - cryptography raises several types for junk
        raise ValidationError("The client key is not a PEM private key (-----BEGIN PRIVATE KEY-----).") from None


def _public_bytes(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def validate_tls(ca: str, cert: str, key: str) -> dict[str, list[str]]:
    """Field errors for the TLS material (empty dict when valid)."""
    errors: dict[str, list[str]] = {}
    loaded = {}
    for field, text, loader in (
        ("tls_ca_cert", ca, lambda t: _load_certs(t, "CA certificate")),
        ("tls_client_cert", cert, lambda t: _load_certs(t, "client certificate")[0]),
        ("tls_client_key", key, _load_key),
    ):
        if text:
            try:
                loaded[field] = loader(text)
            except ValidationError as exc:
                errors.setdefault(field, []).extend(exc.messages)
    if bool(cert) != bool(key):
        missing = "tls_client_key" if cert else "tls_client_cert"
        errors.setdefault(missing, []).append("Give the client certificate and its key together.")
    if "tls_client_cert" in loaded and "tls_client_key" in loaded:
        if _public_bytes(loaded["tls_client_cert"].public_key()) != _public_bytes(loaded["tls_client_key"].public_key()):
            errors.setdefault("tls_client_key", []).append("This key does not match the client certificate.")
    return errors


def validate_ssh_key(text: str) -> list[str]:
    from apps.engine.ssh import InvalidKey, load_private_key

    if len(text) > PEM_MAX:
        return [f"The private key is too long (at most {PEM_MAX} characters)."]
    try:
        load_private_key(text)
    except InvalidKey as exc:
        return [str(exc)]
    return []


# --- the whole host ------------------------------------------------------------------------

def validate_host(data: dict, *, user, team, instance=None, repin: bool = False) -> dict:
    """Check a host's fields as a whole and return the values to save.

    `data` holds name, url, description, the TLS fields and ssh_private_key; a blank secret on
    an existing host keeps the stored one. For ssh:// hosts the server's host key is fetched and
    pinned on registration, when the address changes, or when `repin` is asked for.
    """
    errors: dict[str, list[str]] = {}
    values = {k: (data.get(k) or "") for k in ("name", "url", "description", *TLS_FIELDS, "ssh_private_key")}
    values["name"] = values["name"].strip()
    values["url"] = values["url"].strip()
    endpoint = None
    try:
        endpoint = parse_url(values["url"])
    except ValidationError as exc:
        errors["url"] = exc.messages
    scheme = endpoint.scheme if endpoint else None
    # A blank secret keeps the stored one, as long as it still applies (same scheme; for the
    # TLS key, a client certificate is still given).
    keep = {"tls_client_key": scheme == "tcp" and bool(values["tls_client_cert"]), "ssh_private_key": scheme == "ssh"}
    for secret, applies in keep.items():
        if not values[secret] and instance is not None and applies:
            values[secret] = getattr(instance, secret)
    if values["name"] and team is not None and _name_taken(team, values["name"], instance):
        errors["name"] = [f"This team already has a host named {values['name']!r}."]
    if endpoint is not None:
        _check_scheme_rules(endpoint, values, user, errors)
    if errors:
        raise ValidationError(errors)
    if endpoint.scheme == "ssh":
        values.update(_pinned_key(endpoint, values["url"], instance, repin))
    else:
        values.update(ssh_host_key="", ssh_host_key_fingerprint="")
    return values


def _name_taken(team, name: str, instance) -> bool:
    from .models import DockerHost

    qs = DockerHost.objects.filter(team=team, name__iexact=name)
    if instance is not None and instance.pk:
        qs = qs.exclude(pk=instance.pk)
    return qs.exists()


def _check_scheme_rules(endpoint: Endpoint, values: dict, user, errors: dict) -> None:
    tls_given = any(values[f] for f in TLS_FIELDS)
    if endpoint.scheme == "unix":
        if not getattr(user, "is_superuser", False):
            errors["url"] = ["Only installation superusers may register unix:// hosts (the server's own engine)."]
    else:
        try:
            check_address(endpoint.host, endpoint.port)
        except OutboundAddressDenied as exc:
            errors["url"] = [f"This address is not allowed: {exc}."]
    if tls_given and endpoint.scheme != "tcp":
        errors.setdefault("tls_ca_cert", []).append("TLS certificates only apply to tcp:// hosts.")
    elif tls_given:
        for field, messages in validate_tls(values["tls_ca_cert"], values["tls_client_cert"], values["tls_client_key"]).items():
            errors.setdefault(field, []).extend(messages)
    if endpoint.scheme == "ssh":
        if not values["ssh_private_key"]:
            errors["ssh_private_key"] = ["An ssh:// host needs the private key DockerForge logs in with."]
        else:
            messages = validate_ssh_key(values["ssh_private_key"])
            if messages:
                errors["ssh_private_key"] = messages
    elif values["ssh_private_key"]:
        errors["ssh_private_key"] = ["An SSH private key only applies to ssh:// hosts."]


def _pinned_key(endpoint: Endpoint, url: str, instance, repin: bool) -> dict:
    """Keep the pinned host key unless the address changed (or a re-pin was asked for)."""
    from apps.engine.client import fetch_ssh_host_key
    from apps.engine.errors import EngineError

    same_address = instance is not None and instance.ssh_host_key and _same_address(instance.url, url)
    if same_address and not repin:
        return {"ssh_host_key": instance.ssh_host_key, "ssh_host_key_fingerprint": instance.ssh_host_key_fingerprint}
    try:
        key_type, blob, fingerprint = fetch_ssh_host_key(endpoint.host, endpoint.port, timeout=PIN_TIMEOUT)
    except EngineError as exc:
        raise ValidationError({"url": [f"Could not read the SSH host key to pin it: {exc}"]}) from None
    return {"ssh_host_key": f"{key_type} {blob}", "ssh_host_key_fingerprint": fingerprint}


def _same_address(old_url: str, new_url: str) -> bool:
    try:
        old, new = parse_url(old_url), parse_url(new_url)
    except ValidationError:
        return False
    return old.address == new.address
