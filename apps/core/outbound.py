"""The outbound-address policy: the one check every app calls before connecting to an
address a user typed (Docker hosts, webhooks, SMTP, registries, AI endpoints).

By default loopback, link-local, unspecified, multicast and cloud-metadata addresses are
denied; private ranges are allowed (Docker hosts live there). DOCKERFORGE_OUTBOUND_ALLOW
(CIDRs) wins over the default denials; DOCKERFORGE_OUTBOUND_DENY adds denials.
"""

import ipaddress
import socket

from django.conf import settings

METADATA_NETWORKS = [
    ipaddress.ip_network("169.254.169.254/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
]


class OutboundAddressDenied(ValueError):
    pass


def _networks(values):
    return [ipaddress.ip_network(v, strict=False) for v in values]


def _denied_reason(ip: ipaddress._BaseAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in net for net in _networks(settings.OUTBOUND_DENY)):
        return "denied by the installation's outbound policy"
    if any(ip in net for net in _networks(settings.OUTBOUND_ALLOW)):
        return None
    if any(ip in net for net in METADATA_NETWORKS):
        return "cloud metadata addresses are not allowed"
    if ip.is_loopback:
        return "loopback addresses are not allowed"
    if ip.is_link_local:
        return "link-local addresses are not allowed"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "this address is not routable"
    return None


def resolve(host: str, port: int | None = None) -> list[ipaddress._BaseAddress]:
    host = host.strip("[]")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port or 0, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundAddressDenied(f"cannot resolve {host!r}: {exc}") from None
    return list({ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos})


def check_address(host: str, port: int | None = None) -> None:
    """Raise OutboundAddressDenied unless every address `host` resolves to is allowed."""
    if not host:
        raise OutboundAddressDenied("no host given")
    for ip in resolve(host, port):
        reason = _denied_reason(ip)
        if reason:
            raise OutboundAddressDenied(f"{host} ({ip}): {reason}")


def is_allowed(host: str, port: int | None = None) -> bool:
    try:
        check_address(host, port)
    except OutboundAddressDenied:
        return False
    return True
