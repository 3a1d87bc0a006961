"""Typed results read from an engine."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import docker

from .errors import translate


@dataclass(frozen=True)
class EngineInfo:
    name: str
    version: str
    api_version: str
    os: str
    kernel: str
    arch: str
    cpus: int
    memory_bytes: int
    containers: int
    containers_running: int
    containers_paused: int
    containers_stopped: int
    images: int

    def as_dict(self) -> dict:
        return asdict(self)


def info(client: docker.DockerClient) -> EngineInfo:
    """Version and system facts of the engine. Raises Transient/PermanentEngineError."""
    try:
        version = client.version()
        data = client.info()
    except Exception as exc:  # noqa: BLE001 - mapped to a clear engine error
        raise translate(exc, _where(client), client.api.timeout) from exc
    return EngineInfo(
        name=data.get("Name", ""),
        version=version.get("Version") or data.get("ServerVersion", ""),
        api_version=version.get("ApiVersion", ""),
        os=data.get("OperatingSystem", ""),
        kernel=data.get("KernelVersion", ""),
        arch=data.get("Architecture", ""),
        cpus=int(data.get("NCPU") or 0),
        memory_bytes=int(data.get("MemTotal") or 0),
        containers=int(data.get("Containers") or 0),
        containers_running=int(data.get("ContainersRunning") or 0),
        containers_paused=int(data.get("ContainersPaused") or 0),
        containers_stopped=int(data.get("ContainersStopped") or 0),
        images=int(data.get("Images") or 0),
    )


def _where(client) -> str:
    return getattr(client.api, "_dockerforge_where", None) or client.api.base_url
