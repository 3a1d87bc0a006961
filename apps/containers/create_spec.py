"""Container specs: what people type (form, API, AI/update changes) -> a raw Engine API create
body, and a running container's inspect -> the body that would create it again.

One validation path for every entry point:
- `clean_changes(data, may_bind=..., existing_binds=...)` turns friendly input (text lines or
  JSON lists/dicts) into a JSON-safe dict of cleaned values, or raises ValidationError with
  one message list per field. Unknown keys are errors too.
- `apply_changes(plan, cleaned)` writes cleaned values into a CreatePlan (a copy).
- `plan_from_inspect(inspect, image_inspect)` rebuilds a container's create body, dropping what
  the image supplies by default (env, cmd, entrypoint, labels, exposed ports, workdir, user,
  volumes, health check...), so a new image's defaults apply on recreate.
- `friendly_from_plan(plan)` gives the form's text fields back (edit/duplicate pages).

Pure functions: no engine, no database.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import shlex
import signal as signal_module
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,255}$")
LABEL_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,254}$")
# [registry/]repository[:tag][@digest]: a registry is the first component only when it has a
# dot or a port or is localhost (as the engine decides); repository components are lower-case.
IMAGE_RE = re.compile(
    r"^(?:(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9-]+:\d{1,5})(?::\d{1,5})?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$|^(?:sha256:)?[a-f0-9]{12,64}$"
)
MEMORY_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$", re.IGNORECASE)
MEMORY_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
MIN_MEMORY = 6 * 1024**2  # the engine refuses less
MAX_LINES = 500
MAX_TEXT = 100_000
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
BUILTIN_NETWORKS = ("bridge", "default", "host", "none")
CHANGEABLE = (
    "image", "name", "command", "entrypoint", "env", "ports", "volumes", "networks",
    "restart_policy", "memory", "memory_swap", "cpus", "labels", "healthcheck", "privileged",
)


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValidationError("Expected true or false.")


@dataclass
class CreatePlan:
    """What POST /containers/create needs, plus networks to connect before starting (the
    engine takes only one network at create time on API 1.41)."""

    name: str
    body: dict
    extra_networks: dict = field(default_factory=dict)  # network name -> endpoint config

    def as_dict(self) -> dict:
        return {"name": self.name, "body": self.body, "extra_networks": self.extra_networks}

    @classmethod
    def empty(cls) -> CreatePlan:
        return cls(name="", body={"Image": "", "HostConfig": {}})


# --- parsing friendly input ----------------------------------------------------------------

def _lines(value, field_name: str) -> list[str]:
    """Text (one item a line, blank lines and # comments skipped) or a JSON list of strings."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValidationError(f"Too long: at most {MAX_TEXT} characters.")
        items = [line.strip() for line in value.splitlines()]
        items = [line for line in items if line and not line.startswith("#")]
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value if v.strip()]
    else:
        raise ValidationError(f"Give {field_name} as text lines or a list of strings.")
    if len(items) > MAX_LINES:
        raise ValidationError(f"Too many entries: at most {MAX_LINES}.")
    return items


def _pairs(value, field_name: str, key_re: re.Pattern, what: str) -> dict[str, str]:
    """KEY=VALUE lines, a list of them, or a JSON object."""
    if isinstance(value, dict):
        items = [f"{k}={'' if v is None else v}" for k, v in value.items()]
    else:
        items = _lines(value, field_name)
    result: dict[str, str] = {}
    errors = []
    for item in items:
        key, sep, val = item.partition("=")
        key = key.strip()
        if not sep:
            errors.append(f"{item[:60]!r}: expected KEY=VALUE.")
        elif not key_re.match(key):
            errors.append(f"{key[:60]!r} is not a valid {what} name.")
        elif key in result:
            errors.append(f"{key!r} is given twice.")
        else:
            result[key] = val
    if errors:
        raise ValidationError(errors)
    return result


def parse_env(value) -> list[str]:
    return [f"{k}={v}" for k, v in _pairs(value, "env", ENV_KEY_RE, "variable").items()]


def parse_labels(value) -> dict[str, str]:
    return _pairs(value, "labels", LABEL_KEY_RE, "label")


def parse_command(value) -> list[str] | None:
    """A shell-like string (split like a shell would, no shell runs) or a list; empty = image default."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValidationError(f"Too long: at most {MAX_TEXT} characters.")
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise ValidationError(f"Cannot split the command: {exc}.") from None
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValidationError("Give a command as a string or a list of strings.")


def parse_image(value) -> str:
    image = (value or "").strip() if isinstance(value, str) else ""
    if not image:
        raise ValidationError("An image is required.")
    if len(image) > 500 or not IMAGE_RE.match(image):
        raise ValidationError(f"{image[:80]!r} is not an image reference (repository[:tag] or an id).")
    return image


def parse_name(value) -> str:
    name = (value or "").strip().lstrip("/") if isinstance(value, str) else ""
    if name and not (len(name) >= 2 and NAME_RE.match(name)):
        raise ValidationError("A name is 2-128 letters, digits, '_', '.' or '-', starting with a letter or digit.")
    return name


def _port(text: str, what: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{what} {text!r} is not a port number (1-65535)")
    return int(text)


def parse_ports(value) -> list[dict]:
    """`[ip:][host_port:]container_port[/proto]` lines -> [{"port", "proto", "host_ip", "host_port"}]."""
    result, errors, seen = [], [], set()
    for item in _lines(value, "ports"):
        try:
            spec, _, proto = item.partition("/")
            proto = (proto or "tcp").lower()
            if proto not in ("tcp", "udp", "sctp"):
                raise ValueError(f"protocol {proto!r} is not tcp, udp or sctp")
            host_ip, host_port = "", ""
            if spec.startswith("["):  # [v6]:host:container
                end = spec.find("]")
                host_ip, spec = spec[1:end], spec[end + 2 :]
                parts = spec.split(":")
            else:
                parts = spec.split(":")
                if len(parts) == 3:
                    host_ip, parts = parts[0], parts[1:]
            if len(parts) == 2:
                host_port = str(_port(parts[0], "host port")) if parts[0] else ""
            elif len(parts) != 1:
                raise ValueError("expected [ip:][host_port:]container_port[/protocol]")
            port = _port(parts[-1], "container port")
            if host_ip:
                ipaddress.ip_address(host_ip)  # ValueError names the bad address
            key = (host_ip, host_port, port, proto)
            if key in seen:
                raise ValueError("given twice")
            seen.add(key)
            result.append({"port": port, "proto": proto, "host_ip": host_ip, "host_port": host_port})
        except (ValueError, IndexError) as exc:
            errors.append(f"{item[:60]!r}: {exc}.")
    if errors:
        raise ValidationError(errors)
    return result


def parse_volumes(value, *, may_bind: bool, existing_binds: tuple[str, ...] = ()) -> list[str]:
    """`volume:/path[:ro]` or `/host/path:/path[:ro]` lines -> Binds. Bind mounts of host paths
    reach the host's files as root: only team admins may add new ones."""
    result, errors = [], []
    for item in _lines(value, "volumes"):
        parts = item.split(":")
        mode = ""
        if len(parts) == 3:
            mode = parts.pop()
        if len(parts) != 2 or mode not in ("", "ro", "rw"):
            errors.append(f"{item[:60]!r}: expected name:/path[:ro] or /host/path:/path[:ro].")
            continue
        source, target = parts
        if not target.startswith("/") or ".." in target.split("/"):
            errors.append(f"{item[:60]!r}: the container path must be absolute.")
        elif source.startswith("/"):
            if ".." in source.split("/"):
                errors.append(f"{item[:60]!r}: the host path must not contain '..'.")
            elif not may_bind and item not in existing_binds:
                errors.append(f"{item[:60]!r}: only team admins may bind-mount host paths; use a named volume.")
            else:
                result.append(item)
        elif not NAME_RE.match(source) or len(source) < 2:
            errors.append(f"{item[:60]!r}: {source[:60]!r} is not a volume name.")
        else:
            result.append(item)
    if errors:
        raise ValidationError(errors)
    return result


def parse_networks(value) -> list[str]:
    if isinstance(value, str):
        value = value.replace(",", "\n")
    names = _lines(value, "networks")
    bad = [n for n in names if not NAME_RE.match(n) and n not in BUILTIN_NETWORKS]
    if bad:
        raise ValidationError([f"{n[:60]!r} is not a network name." for n in bad])
    if len(set(names)) != len(names):
        raise ValidationError("A network is given twice.")
    if len(names) > 1 and any(n in ("host", "none") for n in names):
        raise ValidationError("'host' and 'none' cannot be combined with other networks.")
    return names


def parse_restart_policy(value) -> dict:
    if isinstance(value, dict):
        value = f"{value.get('Name', '')}:{value.get('MaximumRetryCount', 0)}".rstrip(":0") or "no"
    text = (value or "no").strip().lower() if isinstance(value, str) else None
    if text is None:
        raise ValidationError("Give a restart policy as text, e.g. unless-stopped or on-failure:3.")
    name, _, retries = text.partition(":")
    if name not in RESTART_POLICIES:
        raise ValidationError(f"{name!r} is not a restart policy ({', '.join(RESTART_POLICIES)}).")
    if retries and (name != "on-failure" or not retries.isdigit() or int(retries) > 1000):
        raise ValidationError("Only on-failure takes a retry count (on-failure:N, N up to 1000).")
    return {"Name": "" if name == "no" else name, "MaximumRetryCount": int(retries or 0)}


def parse_memory(value) -> int:
    """"256m", "1g", "1.5GiB" or bytes; 0/empty = no limit."""
    if value in (None, "", 0, "0"):
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = MEMORY_RE.match(str(value).strip())
        if not match:
            raise ValidationError("Give memory as bytes or with a unit: 512m, 1g.")
        number = int(float(match.group(1)) * MEMORY_UNITS[match.group(2).lower()])
    if number < MIN_MEMORY:
        raise ValidationError("The engine needs at least 6 MiB.")
    if number > 2**50:
        raise ValidationError("That is more memory than any host has.")
    return number


def parse_memory_swap(value) -> int:
    """Memory plus swap: like memory, or -1 for unlimited swap; 0/empty = the engine's default."""
    if str(value).strip() == "-1":
        return -1
    return parse_memory(value)


def parse_cpus(value) -> float:
    if value in (None, "", 0, "0"):
        return 0.0
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        raise ValidationError("Give CPUs as a number, e.g. 0.5 or 2.") from None
    if not 0.01 <= cpus <= 1024:
        raise ValidationError("CPUs must be between 0.01 and 1024.")
    return round(cpus, 3)


def parse_healthcheck(value) -> dict | None:
    """{"test": "cmd" | [...], "interval", "timeout", "start_period" (seconds), "retries"}
    or an Engine-shaped {"Test": [...], ...}; None/{} keeps the image's."""
    if not value:
        return None
    if not isinstance(value, dict):
        raise ValidationError("Give a health check as an object with a test command.")
    if "Test" in value:
        return dict(value)
    test = value.get("test")
    if isinstance(test, str) and test.strip():
        test = ["CMD-SHELL", test]
    elif not (isinstance(test, list) and test and all(isinstance(t, str) for t in test)):
        raise ValidationError("A health check needs a test command.")
    result = {"Test": test}
    for key, api_key in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod")):
        if value.get(key) not in (None, ""):
            try:
                seconds = float(value[key])
            except (TypeError, ValueError):
                raise ValidationError(f"{key} must be seconds.") from None
            if not 0.001 <= seconds <= 86400:
                raise ValidationError(f"{key} must be between 1 ms and a day.")
            result[api_key] = int(seconds * 1e9)
    if value.get("retries") not in (None, ""):
        if not str(value["retries"]).isdigit():
            raise ValidationError("retries must be a whole number.")
        result["Retries"] = int(value["retries"])
    return result


def parse_signal(value) -> str:
    """A signal by name (KILL, SIGTERM) or number, as the engine accepts it."""
    text = str(value or "SIGKILL").strip().upper()
    if text.isdigit() and 1 <= int(text) <= 64:
        return text
    name = text if text.startswith("SIG") else f"SIG{text}"
    if name not in signal_module.Signals.__members__:
        raise ValidationError(f"{text[:20]!r} is not a signal name.")
    return name


def parse_timeout(value, *, maximum: int = 3600) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).isdigit() or int(value) > maximum:
        raise ValidationError(f"Give a whole number of seconds between 0 and {maximum}.")
    return int(value)


def clean_changes(data: dict, *, may_bind: bool, existing_binds: tuple[str, ...] = (), require_image: bool = False) -> dict:
    """Validate friendly input; returns JSON-safe cleaned values for the keys given.
    Raises ValidationError({field: [messages]}) naming every bad field at once."""
    if not isinstance(data, dict):
        raise ValidationError({"changes": ["Expected an object."]})
    unknown = sorted(set(data) - set(CHANGEABLE))
    errors: dict[str, list[str]] = {k: [f"Unknown field (allowed: {', '.join(CHANGEABLE)})."] for k in unknown}
    if require_image and "image" not in data:
        errors["image"] = ["An image is required."]
    parsers = {
        "image": parse_image,
        "name": parse_name,
        "command": parse_command,
        "entrypoint": parse_command,
        "env": parse_env,
        "ports": parse_ports,
        "volumes": lambda v: parse_volumes(v, may_bind=may_bind, existing_binds=existing_binds),
        "networks": parse_networks,
        "restart_policy": parse_restart_policy,
        "memory": parse_memory,
        "memory_swap": parse_memory_swap,
        "cpus": parse_cpus,
        "labels": parse_labels,
        "healthcheck": parse_healthcheck,
        "privileged": parse_bool,
    }
    cleaned = {}
    for key in CHANGEABLE:
        if key not in data:
            continue
        try:
            cleaned[key] = parsers[key](data[key])
        except ValidationError as exc:
            errors[key] = exc.messages
    if cleaned.get("memory_swap", 0) > 0 and cleaned.get("memory") and cleaned["memory_swap"] < cleaned["memory"]:
        errors["memory_swap"] = ["Memory plus swap cannot be below the memory limit."]
    if cleaned.get("privileged") and not may_bind:
        errors["privileged"] = ["Privileged containers (root on the host) are for team admins."]
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- applying cleaned values to a plan -----------------------------------------------------

def _port_key(p: dict) -> str:
    return f"{p['port']}/{p['proto']}"


def _set_ports(body: dict, ports: list[dict]) -> None:
    host = body.setdefault("HostConfig", {})
    old_bindings = set(host.get("PortBindings") or {})
    exposed = {k: v for k, v in (body.get("ExposedPorts") or {}).items() if k not in old_bindings}
    bindings: dict[str, list] = {}
    for p in ports:
        exposed[_port_key(p)] = {}
        bindings.setdefault(_port_key(p), []).append({"HostIp": p["host_ip"], "HostPort": p["host_port"]})
    body["ExposedPorts"] = exposed or None
    host["PortBindings"] = bindings


def _set_networks(plan: CreatePlan, names: list[str]) -> None:
    host = plan.body.setdefault("HostConfig", {})
    current = {**(plan.body.get("NetworkingConfig") or {}).get("EndpointsConfig", {}), **plan.extra_networks}
    if not names:
        host["NetworkMode"] = "default"
        plan.body.pop("NetworkingConfig", None)
        plan.extra_networks = {}
        return
    primary, *rest = names
    host["NetworkMode"] = primary
    endpoints = {} if primary in BUILTIN_NETWORKS else {primary: current.get(primary, {})}
    plan.body["NetworkingConfig"] = {"EndpointsConfig": endpoints}
    plan.extra_networks = {n: current.get(n, {}) for n in rest}


def apply_changes(plan: CreatePlan, cleaned: dict) -> CreatePlan:
    """A copy of `plan` with cleaned values (from clean_changes) written in. Lists replace,
    they do not merge: env, ports, volumes, labels... are the whole new value."""
    plan = copy.deepcopy(plan)
    body = plan.body
    host = body.setdefault("HostConfig", {})
    simple = {"image": "Image", "command": "Cmd", "entrypoint": "Entrypoint", "env": "Env", "labels": "Labels"}
    for key, api_key in simple.items():
        if key in cleaned:
            body[api_key] = cleaned[key]
    if "name" in cleaned:
        plan.name = cleaned["name"]
    if "ports" in cleaned:
        _set_ports(body, cleaned["ports"])
    if "volumes" in cleaned:
        host["Binds"] = cleaned["volumes"]
    if "networks" in cleaned:
        _set_networks(plan, cleaned["networks"])
    if "network_mode" in cleaned:  # "container:<id>": rejoin a recreated container's namespace
        host["NetworkMode"] = cleaned["network_mode"]
        if cleaned["network_mode"].startswith("container:"):
            _joined_namespace(body)
    if "restart_policy" in cleaned:
        host["RestartPolicy"] = cleaned["restart_policy"]
    if "memory" in cleaned:
        host["Memory"] = cleaned["memory"]
        if cleaned["memory"] and host.get("MemorySwap") not in (None, 0, -1):
            host["MemorySwap"] = 0  # the old swap limit would now be below the memory limit
    if "memory_swap" in cleaned:
        host["MemorySwap"] = cleaned["memory_swap"]
    if "cpus" in cleaned:
        host["NanoCpus"] = int(cleaned["cpus"] * 1e9)
    if "privileged" in cleaned:
        host["Privileged"] = cleaned["privileged"]
    if "healthcheck" in cleaned:
        if cleaned["healthcheck"]:
            body["Healthcheck"] = cleaned["healthcheck"]
        else:
            body.pop("Healthcheck", None)
    return plan


def plan_for_create(cleaned: dict) -> CreatePlan:
    return apply_changes(CreatePlan.empty(), cleaned)


# --- from a container's inspect back to a create body --------------------------------------

CONFIG_KEYS = (
    "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin",
    "StdinOnce", "Env", "Cmd", "Healthcheck", "Image", "Volumes", "WorkingDir", "Entrypoint",
    "NetworkDisabled", "MacAddress", "Labels", "StopSignal", "StopTimeout", "Shell", "ExposedPorts",
)
ENDPOINT_KEYS = ("IPAMConfig", "Links", "Aliases", "DriverOpts")


def _drop_image_defaults(config: dict, image: dict, container_id: str) -> dict:
    """Leave only what the container set itself: a recreate on another image then gets that
    image's defaults rather than freezing the old ones in."""
    image_env = set(image.get("Env") or [])
    config["Env"] = [e for e in config.get("Env") or [] if e not in image_env] or None
    if config.get("Entrypoint") == image.get("Entrypoint"):
        config["Entrypoint"] = None
        if config.get("Cmd") == image.get("Cmd"):
            config["Cmd"] = None
    image_labels = image.get("Labels") or {}
    config["Labels"] = {k: v for k, v in (config.get("Labels") or {}).items() if image_labels.get(k) != v} or None
    image_ports = set(image.get("ExposedPorts") or {})
    config["ExposedPorts"] = {k: v for k, v in (config.get("ExposedPorts") or {}).items() if k not in image_ports} or None
    image_volumes = set(image.get("Volumes") or {})
    config["Volumes"] = {k: v for k, v in (config.get("Volumes") or {}).items() if k not in image_volumes} or None
    for key in ("WorkingDir", "User", "Healthcheck", "StopSignal", "Shell"):
        if config.get(key) == image.get(key):
            config.pop(key, None)
    if config.get("Hostname") == container_id[:12]:
        config.pop("Hostname")  # the engine's default: the new container gets its own
    return config


def _endpoint(settings: dict, container_id: str) -> dict:
    endpoint = {k: copy.deepcopy(settings[k]) for k in ENDPOINT_KEYS if settings.get(k)}
    aliases = [a for a in endpoint.get("Aliases") or [] if a != container_id[:12]]
    if aliases:
        endpoint["Aliases"] = aliases
    else:
        endpoint.pop("Aliases", None)
    return endpoint


def _links(links: list[str] | None) -> list[str] | None:
    # Inspect shows "/other:/me/alias"; create wants "other:alias".
    result = []
    for link in links or []:
        source, _, target = link.partition(":")
        result.append(f"{source.lstrip('/')}:{target.rsplit('/', 1)[-1]}")
    return result or None


# What a container in another's network namespace may not set (the engine answers 400
# "conflicting options"); inspect reports the namespace owner's hostname in Config.Hostname.
JOINED_CONFIG_KEYS = ("Hostname", "Domainname", "MacAddress", "ExposedPorts")
JOINED_HOST_KEYS = ("PortBindings", "PublishAllPorts", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts", "Links")


def _joined_namespace(body: dict) -> None:
    for key in JOINED_CONFIG_KEYS:
        body.pop(key, None)
    host = body.get("HostConfig") or {}
    for key in JOINED_HOST_KEYS:
        host.pop(key, None)
    body.pop("NetworkingConfig", None)


def plan_from_inspect(inspect: dict, image_inspect: dict | None) -> CreatePlan:
    """The create body that would make this container again (name included)."""
    cid = inspect["Id"]
    config = {k: copy.deepcopy(v) for k, v in (inspect.get("Config") or {}).items() if k in CONFIG_KEYS}
    config = _drop_image_defaults(config, (image_inspect or {}).get("Config") or {}, cid)
    host = copy.deepcopy(inspect.get("HostConfig") or {})
    host["Links"] = _links(host.get("Links"))
    # Anonymous volumes would come back empty: mount the existing ones by name.
    binds = list(host.get("Binds") or [])
    taken = {b.split(":")[1] for b in binds if ":" in b} | {m.get("Target") for m in host.get("Mounts") or []}
    for mount in inspect.get("Mounts") or []:
        if mount.get("Type") == "volume" and mount.get("Destination") not in taken and mount.get("Name"):
            binds.append(f"{mount['Name']}:{mount['Destination']}{'' if mount.get('RW', True) else ':ro'}")
            (config.get("Volumes") or {}).pop(mount["Destination"], None)
    host["Binds"] = binds or None
    networks = (inspect.get("NetworkSettings") or {}).get("Networks") or {}
    mode = host.get("NetworkMode") or "default"
    primary = mode if mode in networks else next(iter(networks), None)
    body = {**config, "HostConfig": host}
    plan = CreatePlan(name=inspect.get("Name", "").lstrip("/"), body=body)
    if primary and primary not in BUILTIN_NETWORKS and not mode.startswith("container:"):
        body["NetworkingConfig"] = {"EndpointsConfig": {primary: _endpoint(networks[primary], cid)}}
    if mode.startswith("container:"):
        _joined_namespace(body)
    else:
        plan.extra_networks = {n: _endpoint(s, cid) for n, s in networks.items() if n != primary}
    return plan


# --- back to what the form shows -----------------------------------------------------------

def _memory_text(number: int) -> str:
    for unit, size in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if number and number % size == 0:
            return f"{number // size}{unit}"
    return str(number or "")


def _port_lines(bindings: dict) -> list[str]:
    lines = []
    for key, entries in (bindings or {}).items():
        for entry in entries or [{}]:
            ip, port = entry.get("HostIp", ""), entry.get("HostPort", "")
            prefix = f"[{ip}]:" if ":" in ip else (f"{ip}:" if ip else "")
            lines.append(f"{prefix}{port}:{key}" if port or ip else key)
    return [line.removesuffix("/tcp") for line in lines]


def friendly_from_plan(plan: CreatePlan) -> dict:
    """The form's text fields for a plan (edit and duplicate pages start from these)."""
    body, host = plan.body, plan.body.get("HostConfig") or {}
    policy = host.get("RestartPolicy") or {}
    restart = policy.get("Name") or "no"
    if restart == "on-failure" and policy.get("MaximumRetryCount"):
        restart += f":{policy['MaximumRetryCount']}"
    mode = host.get("NetworkMode") or "default"
    networks = ([] if mode == "default" else [mode]) + list(plan.extra_networks)
    return {
        "image": body.get("Image", ""),
        "name": plan.name,
        "command": shlex.join(body["Cmd"]) if body.get("Cmd") else "",
        "env": "\n".join(body.get("Env") or []),
        "ports": "\n".join(_port_lines(host.get("PortBindings"))),
        "volumes": "\n".join(host.get("Binds") or []),
        "networks": "\n".join(networks),
        "restart_policy": restart,
        "memory": _memory_text(host.get("Memory") or 0),
        "cpus": str((host.get("NanoCpus") or 0) / 1e9).removesuffix(".0") if host.get("NanoCpus") else "",
        "labels": "\n".join(f"{k}={v}" for k, v in (body.get("Labels") or {}).items()),
    }
