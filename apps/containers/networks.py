"""Networks: create, connect/disconnect a container, remove, prune (all Operations).

The engine's built-in networks (bridge, host, none) are refused up front with a clear error
rather than left to fail in the engine.
"""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError

from apps.engine import resources as engine
from apps.hosts.models import DockerHost

from .models import Container, Network
from .sync import refresh_kind
from .tasks_resources import announce, authorize, host_client, performer, publish_outcome, start_operation
from .tasks_resources import op_host as _host

BUILTIN = ("bridge", "host", "none")
NETWORK_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
ALIAS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class BuiltinNetworkError(ValidationError):
    pass


def refuse_builtin(network: Network, what: str) -> None:
    if network.name in BUILTIN:
        raise BuiltinNetworkError(f"{network.name} is one of the engine's built-in networks: it cannot be {what}.")


def validate_create(name: str, subnet: str = "", gateway: str = "") -> dict:
    """Field errors for a new network, or the cleaned values."""
    errors = {}
    name = (name or "").strip()
    if not NETWORK_NAME_RE.match(name):
        errors["name"] = "Names start with a letter or digit and hold only letters, digits, _ . and -."
    elif name in BUILTIN:
        errors["name"] = f"{name} is reserved for the engine's built-in network."
    net = None
    if subnet:
        try:
            net = ipaddress.ip_network(subnet.strip(), strict=True)
        except ValueError as exc:
            errors["subnet"] = f"Not a subnet in CIDR form (e.g. 172.28.0.0/16): {exc}"
    if gateway:
        try:
            gw = ipaddress.ip_address(gateway.strip())
            if net is not None and gw not in net:
                errors["gateway"] = f"The gateway {gw} is not inside {net}."
            elif not subnet:
                errors["gateway"] = "A gateway needs a subnet."
        except ValueError:
            errors["gateway"] = "Not an IP address."
    if errors:
        raise ValidationError(errors)
    return {"name": name, "subnet": str(net) if net else "", "gateway": (gateway or "").strip()}




def request_create(user, host: DockerHost, *, name: str, driver: str = "bridge", subnet: str = "", gateway: str = "",
                   internal: bool = False, attachable: bool = False, labels: dict | None = None):
    authorize(user, host.team_id)  # 403 before any validation
    cleaned = validate_create(name, subnet, gateway)
    params = {**cleaned, "driver": driver or "bridge", "internal": bool(internal), "attachable": bool(attachable), "labels": labels or {}}
    return start_operation(user, host, "network.create", target_kind="network", target_name=cleaned["name"], params=params)


@performer("network.create")
def perform_create(op, progress) -> dict:
    host, p = _host(op), op.params
    with host_client(host) as client:
        created = engine.create_network(client, p["name"], driver=p["driver"], subnet=p["subnet"], gateway=p["gateway"],
                                        internal=p["internal"], attachable=p["attachable"], labels=p["labels"])
        network = refresh_kind(host, "networks", client=client, key=created["Id"])
    progress.log(f"Created network {p['name']} ({created['Id'][:12]})")
    announce(host, "network", network)  # the engine's `create` event is the stored one
    return {"id": created["Id"], "network": network.pk if network else None}


def _container(network: Network, container: Container | str) -> Container:
    """A present container of the network's host (a mirror row, or its docker id/name)."""
    qs = Container.objects.filter(host_id=network.host_id, removed_at__isnull=True)
    if isinstance(container, Container):
        if container.host_id != network.host_id:
            raise ValidationError({"container": "The container runs on another host than the network."})
        return container
    found = qs.filter(docker_id=container).first() or qs.filter(name=container.lstrip("/")).first()
    if found is None:
        raise ValidationError({"container": "No such container on this network's host."})
    return found


def _aliases(aliases: list[str] | None) -> list[str]:
    aliases = [a.strip() for a in (aliases or []) if a and a.strip()]
    bad = [a for a in aliases if not ALIAS_RE.match(a)]
    if bad:
        raise ValidationError({"aliases": f"Not valid network aliases: {', '.join(bad)}"})
    return aliases


def request_connect(user, network: Network, container: Container | str, aliases: list[str] | None = None):
    authorize(user, network.team_id)  # 403 before any validation
    refuse_builtin_connect(network)
    c = _container(network, container)
    return start_operation(user, network.host, "network.connect", target_kind="network", target_id=network.pk, target_name=network.name,
                           params={"network": network.docker_id, "container": c.docker_id, "container_name": c.name, "aliases": _aliases(aliases)})


def refuse_builtin_connect(network: Network) -> None:
    # host and none networks take no extra containers; bridge does.
    if network.name in ("host", "none"):
        raise BuiltinNetworkError(f"Containers cannot be connected to the built-in {network.name} network after creation.")


@performer("network.connect")
def perform_connect(op, progress) -> dict:
    host, p = _host(op), op.params
    with host_client(host) as client:
        engine.connect_network(client, p["network"], p["container"], p["aliases"])
        network = refresh_kind(host, "networks", client=client, key=p["network"])
    progress.log(f"Connected {p['container_name']} to {op.target_name}" + (f" as {', '.join(p['aliases'])}" if p["aliases"] else ""))
    publish_outcome("network.connected", host, network, op.target_name, f"Connected {p['container_name']} to {op.target_name}",
             {"container": p["container_name"]})
    return {"container": p["container"]}


def request_disconnect(user, network: Network, container: Container | str, force: bool = False):
    authorize(user, network.team_id)  # 403 before any validation
    c = _container(network, container)
    return start_operation(user, network.host, "network.disconnect", target_kind="network", target_id=network.pk, target_name=network.name,
                           params={"network": network.docker_id, "container": c.docker_id, "container_name": c.name, "force": bool(force)})


@performer("network.disconnect")
def perform_disconnect(op, progress) -> dict:
    host, p = _host(op), op.params
    with host_client(host) as client:
        engine.disconnect_network(client, p["network"], p["container"], force=p["force"])
        network = refresh_kind(host, "networks", client=client, key=p["network"])
    progress.log(f"Disconnected {p['container_name']} from {op.target_name}")
    publish_outcome("network.disconnected", host, network, op.target_name,
             f"Disconnected {p['container_name']} from {op.target_name}", {"container": p["container_name"]})
    return {"container": p["container"]}


def request_remove(user, network: Network):
    authorize(user, network.team_id)  # 403 before any validation
    refuse_builtin(network, "removed")
    return start_operation(user, network.host, "network.remove", target_kind="network", target_id=network.pk, target_name=network.name,
                           params={"network": network.docker_id, "name": network.name})


@performer("network.remove")
def perform_remove(op, progress) -> dict:
    host, p = _host(op), op.params
    with host_client(host) as client:
        engine.remove_network(client, p["network"])
        refresh_kind(host, "networks", client=client)
    progress.log(f"Removed network {p['name']}")
    announce(host, "network", None)
    return {"name": p["name"]}


def request_prune(user, host: DockerHost):
    """Remove unused networks; the engine never prunes the built-in ones."""
    return start_operation(user, host, "network.prune", target_kind="host", target_id=host.pk, target_name=host.name)


@performer("network.prune")
def perform_prune(op, progress) -> dict:
    host = _host(op)
    with host_client(host) as client:
        result = engine.prune_networks(client)
        refresh_kind(host, "networks", client=client)
    deleted = result.get("NetworksDeleted") or []
    progress.log(f"Removed {len(deleted)} unused networks" + (f": {', '.join(deleted)}" if deleted else "") + " (built-in networks are never pruned)")
    publish_outcome("network.pruned", host, None, "", f"Pruned {len(deleted)} networks on {host.name}", {"deleted": deleted})
    return {"deleted": deleted}
