"""Compose file validation: a pure module (stdlib + PyYAML + jsonschema, no Django), shared
with the command-line client, which validates offline.

`validate(text, env=..., context=...)` runs, in order:
1. YAML parsing, with line/column for syntax errors and duplicate keys;
2. interpolation (`${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`, `${VAR:+a}`,
   `$VAR`, `$$`), from `env` (the `.env` file, then the caller's environment);
3. the Compose Specification JSON Schema (draft-07, vendored in schema/), each error's path
   mapped back to a line and column;
4. semantic checks the schema cannot express: undefined networks/volumes/secrets/configs,
   unknown or cyclic `depends_on`, invalid port specs, port conflicts between services;
5. warnings that need knowledge of a host (`Context`): ports taken by running containers,
   images missing locally, keys the available Compose CLI does not support.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "compose-spec.schema.json"

# Keys docker-compose 1.29 (Compose v1) does not know, from a diff of its bundled
# compose_spec.json against the vendored current schema.
V1_UNSUPPORTED_TOP = frozenset({"include", "models", "name"})
V1_UNSUPPORTED_SERVICE = frozenset({
    "annotations", "attach", "cgroup", "develop", "gpus", "label_file", "models", "post_start",
    "pre_stop", "provider", "pull_refresh_after", "use_api_socket", "uts",
})

Path_ = tuple  # a path into the document: ("services", "web", "ports", 0)


@dataclass
class Issue:
    severity: str  # "error" | "warning"
    message: str
    path: str = ""
    line: int | None = None
    column: int | None = None
    code: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        return f"{where}{self.message}"


@dataclass
class Context:
    """What the caller knows about the target host; every field is optional.

    busy_ports: {(host_port, proto): owner} for ports running containers publish.
    project: this stack's project name (its own containers do not conflict with it).
    local_images: references present on the host, or None when unknown.
    registry_check: ref -> True (registry has it), False (it does not), None (unreachable).
    cli: ("docker-compose", "1.29.2") or ("docker compose", "2.x"), or None.
    """

    busy_ports: dict[tuple[int, str], str] | None = None
    local_images: set[str] | None = None
    registry_check: Callable[[str], bool | None] | None = None
    cli: tuple[str, str] | None = None


@dataclass
class Result:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    data: Any = None  # the interpolated document (None when YAML failed)
    variables: dict[str, str] = field(default_factory=dict)  # the values interpolation used

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "valid": self.ok,
            "errors": [i.as_dict() for i in self.errors],
            "warnings": [i.as_dict() for i in self.warnings],
        }


class _Positions:
    """Line/column (1-based) of every key and item, by path; the nearest known prefix wins."""

    def __init__(self):
        self.at: dict[Path_, tuple[int, int]] = {}
        self.values: dict[Path_, tuple[int, int]] = {}  # where each key's value starts

    def locate(self, path: Iterable, value: bool = False) -> tuple[int | None, int | None]:
        path = tuple(path)
        if value and path in self.values:
            return self.values[path]
        while path:
            if path in self.at:
                return self.at[path]
            path = path[:-1]
        return self.at.get((), (None, None))


def format_path(path: Iterable) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# --- 1. YAML ----------------------------------------------------------------------------------

# libyaml's parser when installed (several times faster on large files), same node marks.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> tuple[Any, _Positions, list[Issue]]:
    loader = _Loader(text)
    positions = _Positions()
    try:
        node = loader.get_single_node()
        if node is None:
            return None, positions, [Issue("error", "The Compose file is empty.", line=1, column=1, code="empty")]
        data = loader.construct_document(node)  # also flattens `<<` merge keys in the node tree
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            # "end of stream" alone says little: name where the unfinished construct began.
            start = exc.context_mark
            message += f" ({exc.context} that starts at line {start.line + 1}, column {start.column + 1})"
        return None, positions, [Issue("error", message, line=mark.line + 1 if mark else None,
                                       column=mark.column + 1 if mark else None, code="yaml")]
    except yaml.YAMLError as exc:
        return None, positions, [Issue("error", f"YAML error: {exc}", code="yaml")]
    finally:
        loader.dispose()
    issues: list[Issue] = []
    positions.at[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
    _walk(node, (), positions, issues)
    return data, positions, issues


def _walk(node, path: Path_, positions: _Positions, issues: list[Issue]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            here = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in seen and key != "<<":
                issues.append(Issue("error", f"Duplicate key {key!r} in {format_path(path) or 'the top level'} "
                                    f"(first on line {seen[key]})", format_path(path + (key,)), *here, code="duplicate-key"))
            seen.setdefault(key, here[0])
            positions.at.setdefault(path + (key,), here)
            positions.values.setdefault(path + (key,), (value_node.start_mark.line + 1, value_node.start_mark.column + 1))
            _walk(value_node, path + (key,), positions, issues)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            positions.at.setdefault(path + (index,), (item.start_mark.line + 1, item.start_mark.column + 1))
            _walk(item, path + (index,), positions, issues)


# --- 2. .env files and interpolation ---------------------------------------------------------

def parse_env_file(text: str) -> tuple[dict[str, str], list[Issue]]:
    """`KEY=value` lines (comments, blanks, `export `, quotes) as Compose reads a .env file."""
    values: dict[str, str] = {}
    issues: list[Issue] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            issues.append(Issue("error", f".env line {number}: expected KEY=value", line=number, column=1, code="env-syntax"))
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values, issues


_VAR = r"[A-Za-z_][A-Za-z0-9_]*"
_TOKEN = re.compile(rf"\$(?:(?P<escaped>\$)|(?P<named>{_VAR})|\{{(?P<braced>[^{{}}]*(?:\{{[^{{}}]*\}}[^{{}}]*)*)\}}|(?P<invalid>))")
_BRACED = re.compile(rf"^(?P<name>{_VAR})(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.S)


class InterpolationError(Exception):
    pass


class _Interpolator:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.used: dict[str, str] = {}
        self.unset: list[str] = []

    def string(self, text: str) -> str:
        return _TOKEN.sub(self._replace, text)

    def _replace(self, match: re.Match) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("named"):
            return self._lookup(match.group("named"))
        braced = match.group("braced")
        if braced is None:
            raise InterpolationError(f"Invalid interpolation format in {match.string!r}: a lone '$' (write '$$' for a literal $)")
        parsed = _BRACED.match(braced)
        if not parsed:
            raise InterpolationError(f"Invalid interpolation format for ${{{braced}}}")
        name, op, arg = parsed.group("name", "op", "arg")
        if not op:
            return self._lookup(name)
        value = self.env.get(name)
        is_set = value is not None
        is_nonempty = bool(value)
        present = is_nonempty if op.startswith(":") else is_set
        kind = op[-1]
        if kind == "-":
            if present:
                self.used[name] = value
                return value
            return self.string(arg)
        if kind == "?":
            if present:
                self.used[name] = value
                return value
            reason = self.string(arg) or ("empty or unset" if op.startswith(":") else "unset")
            raise InterpolationError(f"Required variable {name} is missing a value: {reason}")
        # "+": the alternative when set
        return self.string(arg) if present else ""

    def _lookup(self, name: str) -> str:
        if name in self.env:
            self.used[name] = self.env[name]
            return self.env[name]
        self.unset.append(name)
        return ""


_INT = re.compile(r"^-?\d+$")


def interpolate(data: Any, env: dict[str, str], positions: _Positions, result: Result) -> Any:
    interpolator = _Interpolator(env)

    def visit(value, path):
        if isinstance(value, dict):
            return {k: visit(v, path + (k,)) for k, v in value.items()}
        if isinstance(value, list):
            return [visit(v, path + (i,)) for i, v in enumerate(value)]
        if isinstance(value, str) and "$" in value:
            before = len(interpolator.unset)
            try:
                out = interpolator.string(value)
            except InterpolationError as exc:
                result.errors.append(_issue("error", str(exc), path, positions, "interpolation", value=True))
                return value
            for name in dict.fromkeys(interpolator.unset[before:]):
                result.warnings.append(_issue("warning", f"The {name} variable is not set: it defaults to an empty string.",
                                              path, positions, "unset-variable", value=True))
            # A whole-number result becomes a number, as Compose casts typed fields.
            return int(out) if _INT.match(out) and out != value else out
        return value

    out = visit(data, ())
    result.variables = dict(interpolator.used)
    return out


def _issue(severity, message, path, positions: _Positions, code="", value=False) -> Issue:
    line, column = positions.locate(path, value)
    return Issue(severity, message, format_path(path), line, column, code)


# --- 3. JSON Schema --------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft7Validator(schema)


def schema_errors(data: Any, positions: _Positions) -> list[Issue]:
    issues = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        best = jsonschema.exceptions.best_match([error])
        path = tuple(best.absolute_path)
        if best.validator == "additionalProperties":
            for extra in _extras(best):
                where = format_path(path) or "the top level"
                issues.append(_issue("error", f"{where}: additional property {extra!r} is not allowed",
                                     path + (extra,), positions, "schema"))
            continue
        where = format_path(path) or "the top level"
        on_value = best.validator not in ("required", "additionalProperties")
        issues.append(_issue("error", f"{where}: {_schema_message(best)}", path, positions, "schema", value=on_value))
    return issues


def _extras(error) -> list[str]:
    props = error.schema.get("properties", {})
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return [k for k in error.instance if k not in props and not any(p.search(k) for p in patterns)]


def _schema_message(error) -> str:
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"must be of type {expected} (got {type(error.instance).__name__} {error.instance!r})"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    return error.message


# --- 4. Semantics ------------------------------------------------------------------------------

_PORT = re.compile(
    r"^(?:(?P<ip>\[[0-9a-fA-F:.]+\]|[0-9.]+|[0-9a-fA-F:]+):)??"
    r"(?:(?P<host>\d*(?:-\d+)?):)?"
    r"(?P<container>\d+(?:-\d+)?)(?:/(?P<proto>[a-z]+))?$"
)


@dataclass
class PortSpec:
    host_ip: str
    published: list[int]
    targets: list[int]
    proto: str


def parse_port(spec: Any) -> PortSpec:
    """One short- or long-syntax port; ValueError with a clear reason when invalid."""
    if isinstance(spec, dict):
        target = spec.get("target")
        published = spec.get("published")
        proto = spec.get("protocol") or "tcp"
        targets = _port_range(str(target)) if target is not None else []
        pub = _port_range(str(published)) if published not in (None, "") else []
        return _checked(PortSpec(str(spec.get("host_ip") or ""), pub, targets, proto), spec)
    text = str(spec)
    match = _PORT.match(text)
    if not match:
        raise ValueError(f"Invalid port {text!r}: expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]")
    targets = _port_range(match.group("container"))
    host = match.group("host")
    published = _port_range(host) if host else []
    ip = (match.group("ip") or "").strip("[]")
    return _checked(PortSpec(ip, published, targets, match.group("proto") or "tcp"), text)


def _port_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        raise ValueError(f"Invalid port number {text!r}")
    start, end = int(first), int(last or first)
    for number in (start, end):
        if not 0 < number <= 65535:
            raise ValueError(f"Port {number} is out of range (1-65535)")
    if end < start:
        raise ValueError(f"Invalid port range {text!r}: the end is before the start")
    return list(range(start, end + 1))


def _checked(port: PortSpec, spec) -> PortSpec:
    if port.proto not in ("tcp", "udp", "sctp"):
        raise ValueError(f"Invalid protocol {port.proto!r} in port {spec!r}: use tcp, udp or sctp")
    if not port.targets:
        raise ValueError(f"Port {spec!r} has no container port")
    if port.published and len(port.published) not in (1, len(port.targets)):
        raise ValueError(f"Port {spec!r}: the published and container ranges differ in length")
    return port


def _names(value) -> list[str]:
    """Keys of a mapping, or items (strings, or `source` of dicts) of a list."""
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, list):
        return [v if isinstance(v, str) else (v or {}).get("source", "") for v in value]
    return []


def _list(value) -> list:
    """A list field as a list; a wrong type is the schema's error, not a crash here."""
    return value if isinstance(value, list) else []


def _is_named_volume(source: str) -> bool:
    return bool(source) and not source.startswith((".", "/", "~", "$")) and not re.match(r"^[A-Za-z]:[\\/]", source)


def semantic_errors(data: dict, positions: _Positions) -> list[Issue]:
    issues: list[Issue] = []
    services = data.get("services") or {}
    if not isinstance(services, dict):
        return issues
    top = {kind: set((data.get(kind) or {}).keys()) if isinstance(data.get(kind), dict) else set()
           for kind in ("networks", "volumes", "secrets", "configs")}
    top["networks"].add("default")

    def err(message, path, code):
        issues.append(_issue("error", message, path, positions, code))

    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        base = ("services", name)
        if not svc.get("image") and not svc.get("build") and not svc.get("extends"):
            err(f"Service {name!r} has neither an image nor a build context", base, "no-image")
        _check_refs(name, svc, top, base, err)
        _check_service_refs(name, svc, services, base, err)
        for index, spec in enumerate(_list(svc.get("ports"))):
            try:
                parse_port(spec)
            except ValueError as exc:
                err(f"Service {name!r}: {exc}", base + ("ports", index), "port")
    issues += _cycles(services, positions)
    issues += _port_conflicts(services, positions)
    return issues


def _check_refs(name, svc, top, base, err) -> None:
    for kind in ("networks", "secrets", "configs"):
        for index, ref in enumerate(_names(svc.get(kind))):
            if ref and ref not in top[kind]:
                key = ref if isinstance(svc.get(kind), dict) else index
                err(f"Service {name!r} refers to undefined {kind[:-1]} {ref!r}", base + (kind, key), f"undefined-{kind[:-1]}")
    for index, mount in enumerate(_list(svc.get("volumes"))):
        source = mount.split(":", 1)[0] if isinstance(mount, str) and ":" in mount else (
            (mount.get("source") or "") if isinstance(mount, dict) and mount.get("type", "volume") == "volume" else "")
        if _is_named_volume(source) and source not in top["volumes"]:
            err(f"Service {name!r} refers to undefined volume {source!r}", base + ("volumes", index), "undefined-volume")


def _check_service_refs(name, svc, services, base, err) -> None:
    for dep in _names(svc.get("depends_on")):
        key = dep if isinstance(svc.get("depends_on"), dict) else _names(svc.get("depends_on")).index(dep)
        if dep == name:
            err(f"Service {name!r} depends on itself", base + ("depends_on", key), "depends-cycle")
        elif dep not in services:
            err(f"Service {name!r} depends on undefined service {dep!r}", base + ("depends_on", key), "depends-unknown")
    for index, link in enumerate(_list(svc.get("links"))):
        target = str(link).split(":", 1)[0]
        if target not in services:
            err(f"Service {name!r} links to undefined service {target!r}", base + ("links", index), "links-unknown")
    mode = svc.get("network_mode")
    if isinstance(mode, str) and mode.startswith("service:") and mode[8:] not in services:
        err(f"Service {name!r} uses the network of undefined service {mode[8:]!r}", base + ("network_mode",), "network-mode")
    for index, source in enumerate(_list(svc.get("volumes_from"))):
        target = str(source).split(":", 1)[0]
        if target != "container" and target not in services:
            err(f"Service {name!r} takes volumes from undefined service {target!r}", base + ("volumes_from", index), "volumes-from")
    extends = svc.get("extends")
    if isinstance(extends, dict) and not extends.get("file") and extends.get("service") not in services:
        err(f"Service {name!r} extends undefined service {extends.get('service')!r}", base + ("extends",), "extends")


def _cycles(services: dict, positions: _Positions) -> list[Issue]:
    graph = {n: [d for d in _names((s or {}).get("depends_on")) if d in services and d != n]
             for n, s in services.items() if isinstance(s, dict)}
    state: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(node, stack):
        state[node] = 1
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                found.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    issues = []
    for cycle in found:
        path = ("services", cycle[0], "depends_on")
        issues.append(_issue("error", f"Dependency cycle: {' -> '.join(cycle)}", path, positions, "depends-cycle"))
    return issues


def published_ports(services: dict) -> Iterable[tuple[str, int, str, str, int]]:
    """(service, host port, proto, host ip, index) for every published port that parses."""
    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        for index, spec in enumerate(_list(svc.get("ports"))):
            try:
                port = parse_port(spec)
            except ValueError:
                continue
            for number in port.published:
                yield name, number, port.proto, port.host_ip, index


def _port_conflicts(services: dict, positions: _Positions) -> list[Issue]:
    seen: dict[tuple[int, str], tuple[str, str]] = {}
    issues = []
    for name, number, proto, ip, index in published_ports(services):
        owner = seen.get((number, proto))
        if owner and (not ip or not owner[1] or ip == owner[1]):
            issues.append(_issue("error", f"Port {number}/{proto} of service {name!r} is already published by service {owner[0]!r}",
                                 ("services", name, "ports", index), positions, "port-conflict"))
        else:
            seen.setdefault((number, proto), (name, ip))
    return issues


# --- 5. Warnings from the host's state ---------------------------------------------------------

def normalise_image(ref: str) -> str:
    """`nginx` -> `nginx:latest`; digests stay; registry prefixes of Docker Hub are dropped."""
    ref = ref.strip()
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
    if "@" in ref:
        return ref
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else f"{ref}:latest"


def context_warnings(data: dict, positions: _Positions, context: Context) -> list[Issue]:
    services = data.get("services") or {}
    issues: list[Issue] = []
    if context.busy_ports:
        for name, number, proto, _ip, index in published_ports(services):
            owner = context.busy_ports.get((number, proto))
            if owner:
                issues.append(_issue("warning", f"Port {number}/{proto} of service {name!r} is already taken on the host by {owner}",
                                     ("services", name, "ports", index), positions, "port-busy"))
    if context.local_images is not None:
        local = {normalise_image(i) for i in context.local_images}
        for name, svc in services.items():
            image = svc.get("image") if isinstance(svc, dict) else None
            if not isinstance(image, str) or not image or normalise_image(image) in local:
                continue
            issues.append(_issue("warning", _image_message(name, image, context, bool(svc.get("build"))),
                                 ("services", name, "image"), positions, "image-missing"))
    if context.cli and context.cli[0] == "docker-compose" and context.cli[1].startswith("1."):
        issues += _v1_warnings(data, positions, context.cli[1])
    return issues


def _image_message(service: str, image: str, context: Context, has_build: bool) -> str:
    if has_build:
        return f"Image {image!r} of service {service!r} is not present on the host: it will be built"
    found = context.registry_check(image) if context.registry_check else None
    if found is None:
        return f"Image {image!r} of service {service!r} is not present on the host; whether its registry has it is unknown (registry not reachable)"
    if found:
        return f"Image {image!r} of service {service!r} is not present on the host: it will be pulled"
    return f"Image {image!r} of service {service!r} is not present on the host nor in its registry"


def _v1_warnings(data: dict, positions: _Positions, version: str) -> list[Issue]:
    issues = []
    cli = f"docker-compose {version}"
    for key in data:
        if key in V1_UNSUPPORTED_TOP:
            issues.append(_issue("warning", f"Top-level key {key!r} is not supported by {cli}", (key,), positions, "cli-unsupported"))
    for name, svc in (data.get("services") or {}).items():
        for key in (svc or {}) if isinstance(svc, dict) else ():
            if key in V1_UNSUPPORTED_SERVICE:
                issues.append(_issue("warning", f"Service {name!r}: key {key!r} is not supported by {cli}",
                                     ("services", name, key), positions, "cli-unsupported"))
    return issues


# --- the whole pipeline ---------------------------------------------------------------------

def validate(text: str, *, env: dict[str, str] | None = None, env_file: str | None = None,
             context: Context | None = None) -> Result:
    """Validate one Compose file. `env_file` is the .env text; `env` (the process environment
    or the caller's values) wins over it, as with the Compose CLI."""
    result = Result()
    data, positions, issues = parse_yaml(text)
    result.errors += issues
    if data is None:
        return result
    values: dict[str, str] = {}
    if env_file:
        values, env_issues = parse_env_file(env_file)
        result.errors += env_issues
    values.update(env or {})
    data = interpolate(data, values, positions, result)
    result.data = data
    if not isinstance(data, dict):
        result.errors.append(Issue("error", "The top level of a Compose file must be a mapping", line=1, column=1, code="schema"))
        return result
    result.errors += schema_errors(data, positions)
    result.errors += semantic_errors(data, positions)
    if context is not None and not result.errors:
        result.warnings += context_warnings(data, positions, context)
    return result


def mask(text: str, secrets: Iterable[str], replacement: str = "••••••") -> str:
    """Replace every secret value (longest first; values shorter than 3 characters are too
    common to mask safely and are left) in text."""
    for value in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(value, replacement)
    return text
