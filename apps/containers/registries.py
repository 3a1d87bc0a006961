"""Registry credentials: address validation and the login used when pulling from a registry.

A credential belongs to a team and names one registry address (host[:port]). Pulls look up
the credential of the registry the image reference points at (Docker's rule: the first path
component is a registry when it has a dot or a port, or is "localhost"; otherwise Docker Hub).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from apps.core.outbound import OutboundAddressDenied, check_address

from .models import RegistryCredential

DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
# host[:port]: DNS name or IPv4, or a bracketed IPv6 literal.
_ADDRESS = re.compile(r"^(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::(?P<port>\d{1,5}))?$")


def normalize_registry(value: str) -> str:
    """"https://Registry.Example.com:5000/" -> "registry.example.com:5000"; hub aliases -> docker.io."""
    value = (value or "").strip()
    value = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", value).rstrip("/")
    value = value.removesuffix("/v1").removesuffix("/v2").rstrip("/")
    value = value.lower()
    return DOCKER_HUB if value in _HUB_ALIASES else value


def validate_registry(value: str) -> str:
    """The normalized address, or ValidationError with a message a person can act on."""
    address = normalize_registry(value)
    if not address:
        raise ValidationError("Enter the registry's address, e.g. registry.example.com:5000.")
    if "/" in address:
        raise ValidationError("Enter only the registry's host and optional port, without a path.")
    match = _ADDRESS.match(address)
    if not match:
        raise ValidationError("Not a valid registry address: use host or host:port.")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        raise ValidationError("The port must be between 1 and 65535.")
    if address != DOCKER_HUB:
        try:
            check_address(match["host"], port)
        except OutboundAddressDenied as exc:
            raise ValidationError(f"This registry address is not allowed: {exc}") from None
    return address


def registry_of(reference: str) -> str:
    """The registry an image reference pulls from ("docker.io" for Docker Hub)."""
    first, sep, _rest = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return normalize_registry(first)
    return DOCKER_HUB


def credential_for(team_id: int, reference: str) -> RegistryCredential | None:
    return RegistryCredential.objects.filter(team_id=team_id, registry=registry_of(reference)).first()


def auth_config_for(team_id: int, reference: str) -> dict | None:
    """The docker SDK `auth_config` for pulling `reference`, or None without a credential.

    The address is checked against the outbound policy again at use: the policy may have
    changed since the credential was saved, and the engine would send the password there.
    """
    cred = credential_for(team_id, reference)
    if cred is None:
        return None
    validate_registry(cred.registry)
    return {"username": cred.username, "password": cred.password, "serveraddress": cred.registry}
