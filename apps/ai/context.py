"""What an analysis looks at: live inspect, the log tail and stored Docker events of a container.

Bounded reads (inspect, the last N log lines) go through the containers and engine apps."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from .detectors import metrics as metrics_detector

LOG_TAIL = 2000


@dataclass
class ContainerContext:
    name: str
    image: str
    inspect: dict
    log_lines: list[str]
    events: list = field(default_factory=list)
    metric_findings: list = field(default_factory=list)

    @property
    def env(self) -> list[tuple[str, str]]:
        pairs = []
        for item in (self.inspect.get("Config") or {}).get("Env") or []:
            name, _, value = item.partition("=")
            pairs.append((name, value))
        return pairs


def live_inspect(container) -> dict:
    from apps.engine.lifecycle import inspect_container
    from apps.hosts.services import client_for

    client = client_for(container.host, timeout=getattr(settings, "ENGINE_TIMEOUT", 10))
    try:
        return inspect_container(client, container.docker_id, where=container.host.name)
    finally:
        client.close()


def log_tail(container, tail: int = LOG_TAIL) -> list[str]:
    from apps.containers.logs import LogQuery, read_logs

    return [line.plain for line in read_logs(container, LogQuery(tail=tail)).lines]


def container_events(container, limit: int = 200) -> list:
    from apps.activity.models import Event

    rows = Event.objects.filter(team_id=container.team_id, target_kind="container", target_id=str(container.pk)).order_by("-occurred_at")[:limit]
    return list(reversed(rows))


def collect(container) -> ContainerContext:
    inspect = live_inspect(container)
    limit = (inspect.get("HostConfig") or {}).get("Memory") or 0
    return ContainerContext(
        name=container.name, image=container.image, inspect=inspect, log_lines=log_tail(container),
        events=container_events(container), metric_findings=metrics_detector.detect(container, limit),
    )
