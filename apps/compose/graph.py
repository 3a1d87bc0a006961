"""The stack graph: services, networks, volumes and dependencies laid out for a server-side
SVG, with each service's live state from the mirror. Names are untrusted: the template
escapes them; this module only computes positions."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.containers.models import Container

from .validation import _names

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 180, 52, 30, 56, 16


@dataclass
class Node:
    id: str
    kind: str  # service | network | volume
    name: str
    x: int = 0
    y: int = 0
    state: str = ""  # running | partial | exited | missing | paused | restarting
    detail: str = ""

    @property
    def cx(self) -> int:
        return self.x + NODE_W // 2


@dataclass
class Edge:
    kind: str  # depends | network | volume
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    width: int = 0
    height: int = 0

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)


def service_states(project) -> dict[str, dict]:
    """{service: {"state", "running", "total", "containers"}} from the mirror."""
    out: dict[str, dict] = {}
    rows = Container.objects.filter(host=project.host, compose_project=project.name).present()
    for c in rows.only("name", "state", "compose_service", "status"):
        entry = out.setdefault(c.compose_service, {"running": 0, "total": 0, "containers": [], "states": set()})
        entry["total"] += 1
        entry["running"] += c.state == "running"
        entry["states"].add(c.state)
        entry["containers"].append(c.name)
    for entry in out.values():
        states = entry.pop("states")
        if entry["running"] == entry["total"]:
            entry["state"] = "running"
        elif entry["running"]:
            entry["state"] = "partial"
        else:
            entry["state"] = next((s for s in ("restarting", "paused", "created") if s in states), "exited")
    return out


def model_from(data: dict | None, states: dict[str, dict]) -> dict:
    """{services: {name: {depends, networks, volumes}}, networks: [...], volumes: [...]} from the
    compose document, or from the running containers when there is no file."""
    if data and isinstance(data.get("services"), dict):
        services = {}
        for name, svc in data["services"].items():
            svc = svc if isinstance(svc, dict) else {}
            mounts = [m.split(":", 1)[0] if isinstance(m, str) else (m or {}).get("source", "")
                      for m in (svc.get("volumes") if isinstance(svc.get("volumes"), list) else [])]
            named = set((data.get("volumes") or {}) if isinstance(data.get("volumes"), dict) else {})
            services[name] = {
                "depends": [d for d in _names(svc.get("depends_on")) if d in data["services"]],
                "networks": _names(svc.get("networks")) or (["default"] if "network_mode" not in svc else []),
                "volumes": [m for m in mounts if m in named],
            }
        networks = sorted({n for s in services.values() for n in s["networks"]})
        volumes = sorted({v for s in services.values() for v in s["volumes"]})
        return {"services": services, "networks": networks, "volumes": volumes}
    return {"services": {name: {"depends": [], "networks": [], "volumes": []} for name in sorted(states)},
            "networks": [], "volumes": []}


def layout(model: dict, states: dict[str, dict]) -> Graph:
    graph = Graph()
    services = model["services"]
    depth = _depths(services)
    rows: dict[int, list[str]] = {}
    for name in sorted(services, key=lambda n: (depth[n], n)):
        rows.setdefault(depth[name], []).append(name)
    y = MARGIN
    # Dependencies on top, the services that need them below.
    for level in sorted(rows):
        _place_row(graph, [_service_node(n, states) for n in rows[level]], y)
        y += NODE_H + GAP_Y
    for kind, names in (("network", model["networks"]), ("volume", model["volumes"])):
        if names:
            _place_row(graph, [Node(f"{kind}-{n}", kind, n) for n in names], y)
            y += NODE_H + GAP_Y
    graph.height = max(y - GAP_Y + MARGIN, NODE_H + 2 * MARGIN)
    graph.width = max((n.x + NODE_W for n in graph.nodes), default=NODE_W) + MARGIN
    _edges(graph, services)
    return graph


def _depths(services: dict) -> dict[str, int]:
    memo: dict[str, int] = {}

    def depth(name, trail=()):
        if name in memo:
            return memo[name]
        deps = [d for d in services[name]["depends"] if d not in trail and d != name]
        memo[name] = 0 if not deps else 1 + max(depth(d, trail + (name,)) for d in deps)
        return memo[name]

    return {name: depth(name) for name in services}


def _service_node(name: str, states: dict[str, dict]) -> Node:
    entry = states.get(name)
    if entry is None:
        return Node(f"service-{name}", "service", name, state="missing", detail="not created")
    return Node(f"service-{name}", "service", name, state=entry["state"], detail=f"{entry['running']}/{entry['total']} running")


def _place_row(graph: Graph, nodes: list[Node], y: int) -> None:
    for index, node in enumerate(nodes):
        node.x, node.y = MARGIN + index * (NODE_W + GAP_X), y
        graph.nodes.append(node)


def _edges(graph: Graph, services: dict) -> None:
    for name, svc in services.items():
        src = graph.node(f"service-{name}")
        for dep in svc["depends"]:
            target = graph.node(f"service-{dep}")
            graph.edges.append(Edge("depends", src.cx, src.y, target.cx, target.y + NODE_H))
        for kind in ("network", "volume"):
            for ref in svc[f"{kind}s"]:
                target = graph.node(f"{kind}-{ref}")
                if target:
                    graph.edges.append(Edge(kind, src.cx, src.y + NODE_H, target.cx, target.y))


def build(project, data: dict | None) -> Graph:
    states = service_states(project)
    return layout(model_from(data, states), states)
