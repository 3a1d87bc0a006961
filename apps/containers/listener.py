"""The Docker events listener: one event stream per host, held by the host's "events" lease.

`Supervisor.tick()` (every LISTENER_TICK_SECONDS) takes or renews the lease of every host,
starts a `HostListener` thread for each host it holds, stops those it lost (another process
took over after this one stalled) or whose host was deleted, and pings each connected engine
(a silent network partition would otherwise leave a stream blocked forever). Any number of
`run_listeners` processes may run: the conditional UPDATE behind the lease makes exactly one
serve each host, and a new host is picked up at the next tick.

A `HostListener` connects (recording the host up), opens the stream, runs a full sync (the
stream was opened first, so nothing that happens during the sync is missed), then applies
each event: it re-inspects the one object, upserts its row and publishes
`container.<action>` (and image./volume./network.) events. When the engine goes away the
host is recorded down (its mirror stays readable, flagged stale) and the listener retries
with exponential backoff; back up, it reconnects and the resync corrects the mirror.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connections
from django.urls import reverse

from apps.core import events
from apps.engine import mirror as engine
from apps.engine.errors import EngineError, PermanentEngineError, TransientEngineError
from apps.hosts import services as host_services
from apps.hosts.models import DockerHost

from . import sync
from .models import Container

logger = logging.getLogger(__name__)

LEASE_KIND = "events"
# Published as container.<action>; others that change state only refresh the pages.
CONTAINER_PUBLISHED = {"start", "die", "stop", "kill", "oom", "pause", "unpause", "destroy", "create", "rename", "health_status"}
# Actions that change nothing the mirror holds.
CONTAINER_IGNORED = {"exec_create", "exec_start", "exec_die", "exec_detach", "attach", "detach", "resize", "top",
                     "export", "commit", "copy", "archive-path", "extract-to-dir"}
IMAGE_PUBLISHED = {"pull", "tag", "untag", "delete", "import", "load", "push"}
VOLUME_PUBLISHED = {"create", "destroy"}
VOLUME_IGNORED = {"mount", "unmount"}
NETWORK_PUBLISHED = {"create", "destroy", "remove"}
# kind: (actions published as <kind>.<action>, actions ignored, detail page)
OTHER_KINDS = {
    "image": (IMAGE_PUBLISHED, set(), "containers:image_detail"),
    "volume": (VOLUME_PUBLISHED, VOLUME_IGNORED, "containers:volume_detail"),
    "network": (NETWORK_PUBLISHED, set(), "containers:network_detail"),
}

CONTAINER_SUMMARY = {
    "start": "started", "die": "exited", "stop": "stopped", "kill": "was killed", "oom": "ran out of memory",
    "pause": "paused", "unpause": "resumed", "destroy": "was removed", "create": "was created",
    "rename": "was renamed", "health_status": "health",
}


def backoff(attempt: int) -> float:
    low, high = settings.LISTENER_BACKOFF_MIN, settings.LISTENER_BACKOFF_MAX
    return min(high, low * (2 ** attempt))


class HostListener:
    """One host's event stream in a thread of its own."""

    def __init__(self, host_id: int):
        self.host_id = host_id
        self.connected = threading.Event()  # set once the stream is open and the resync done
        self._stop = threading.Event()
        self._stream: engine.EventStream | None = None
        self._client = None
        self._thread = threading.Thread(target=self._run, name=f"events-host-{host_id}", daemon=True)

    # --- control (any thread)
    def start(self) -> HostListener:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, wait: float = 5.0) -> None:
        self._stop.set()
        self.reset()
        self._thread.join(wait)

    def reset(self) -> None:
        """Close the stream: the reader notices, records the host down and reconnects."""
        stream = self._stream
        if stream is not None:
            stream.close()

    def check(self) -> None:
        """Watchdog: ping the engine over the listener's client; close the stream if it fails."""
        client = self._client
        if client is None or not self.connected.is_set():
            return
        try:
            engine.ping(client)
        except EngineError:
            logger.info("host %s: engine stopped answering; reconnecting", self.host_id)
            self.reset()

    # --- the thread
    def _run(self) -> None:
        attempt = 0
        try:
            while not self._stop.is_set():
                close_old_connections()
                host = DockerHost.objects.filter(pk=self.host_id).first()
                if host is None:
                    return
                try:
                    self._serve(host)
                    attempt = 0
                except EngineError as exc:
                    if not self._stop.is_set():
                        self._record_down(host, exc)
                except Exception:  # noqa: BLE001 - the listener must outlive one bad event or DB hiccup
                    logger.exception("host %s: events listener failed", self.host_id)
                if self._stop.wait(backoff(attempt)):
                    return
                attempt += 1
        finally:
            connections.close_all()

    def _record_down(self, host: DockerHost, exc: EngineError) -> None:
        logger.info("host %s: %s", host.pk, exc)
        host_services.record(host, host_services.ConnectionResult(False, DockerHost.Status.DOWN, str(exc), exc.permanent))

    def _serve(self, host: DockerHost) -> None:
        result = host_services.probe(host)
        if not result.ok:
            raise (PermanentEngineError if result.permanent else TransientEngineError)(result.error)
        host_services.record(host, result)
        client = host_services.client_for(host)
        self._client = client
        try:
            since = engine.engine_time(client)
            self._stream = engine.EventStream(client, since=since)
            sync.sync_host(host, client=client)
            self.connected.set()
            for event in self._stream:
                if self._stop.is_set():
                    return
                try:
                    handle_event(host, client, event)
                except EngineError:
                    raise
                except Exception:  # noqa: BLE001 - one odd event must not drop the stream
                    logger.exception("host %s: could not apply event %s", host.pk, event.get("Action"))
            if not self._stop.is_set():
                raise TransientEngineError(f"The engine of {host.name} closed its event stream")
        finally:
            self.connected.clear()
            if self._stream is not None:
                self._stream.close()
            self._stream = None
            self._client = None
            client.close()


# --- applying one event ------------------------------------------------------------------------

def handle_event(host: DockerHost, client, event: dict) -> None:
    kind = event.get("Type") or ""
    action = event.get("Action") or ""
    base = action.split(":", 1)[0].strip()
    actor = event.get("Actor") or {}
    ident = actor.get("ID") or event.get("id") or ""
    attrs = actor.get("Attributes") or {}
    if not ident:
        return
    if kind == "container":
        _container_event(host, client, base, action, ident, attrs)
    elif kind in OTHER_KINDS and base not in OTHER_KINDS[kind][1]:
        published, _, url_name = OTHER_KINDS[kind]
        _simple_event(host, kind, base, published, sync.refresh_object(host, kind, ident, client=client), url_name)


def _container_event(host, client, base: str, action: str, ident: str, attrs: dict) -> None:
    if base in CONTAINER_IGNORED:
        return
    if base == "destroy":
        row = sync.mark_removed(Container, host, ident)
    else:
        row = sync.refresh_container(host, ident, client=client)
    if row is None:
        return
    if base not in CONTAINER_PUBLISHED:
        sync.notify_changed(host, f"mirror.container.{base}")
        return
    health = action.split(":", 1)[1].strip() if base == "health_status" and ":" in action else ""
    exit_code = attrs.get("exitCode")
    severity = "info"
    if base == "oom" or (base == "health_status" and health == "unhealthy"):
        severity = "error" if base == "oom" else "warning"
    elif base == "die" and exit_code not in (None, "0"):
        severity = "warning"
    what = CONTAINER_SUMMARY[base]
    if base == "health_status":
        what = f"is {health or 'checked'}"
    elif base == "die" and exit_code is not None:
        what = f"exited with code {exit_code}"
    events.publish(
        f"container.{base}",
        host.team_id,
        severity=severity,
        host=host,
        target=events.ref("container", row, row.name, row.labels),
        summary=f"Container {row.name} {what} on {host.name}",
        url=reverse("containers:detail", args=[row.pk]),
        data={"action": action, "docker_id": row.docker_id, "state": row.state, "exit_code": exit_code,
              "health": health or row.health, "old_name": attrs.get("oldName", "")},
    )


def _simple_event(host, kind: str, base: str, published: set[str], row, url_name: str) -> None:
    if row is None:
        return
    if base not in published:
        sync.notify_changed(host, f"mirror.{kind}.{base}")
        return
    events.publish(
        f"{kind}.{base}",
        host.team_id,
        severity="info",
        host=host,
        target=events.ref(kind, row, str(row), row.labels),
        summary=f"{kind.capitalize()} {row} {base} on {host.name}",
        url=reverse(url_name, args=[row.pk]),
        data={"action": base},
    )


# --- many hosts, many processes ----------------------------------------------------------------

class Supervisor:
    """Holds the events lease of as many hosts as it can get and runs their listeners."""

    def __init__(self, holder: str = host_services.HOLDER, lease_seconds: int | None = None):
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.listeners: dict[int, HostListener] = {}

    def tick(self) -> None:
        close_old_connections()
        host_ids = set(DockerHost.objects.values_list("pk", flat=True))
        for host_id in sorted(host_ids):
            held = host_services.acquire_lease(host_id, LEASE_KIND, self.holder, self.lease_seconds)
            current = self.listeners.get(host_id)
            if held and (current is None or not current.alive):
                self.listeners[host_id] = HostListener(host_id).start()
            elif not held and current is not None:
                logger.info("host %s: events lease lost to another process", host_id)
                self.listeners.pop(host_id).stop()
        for host_id in set(self.listeners) - host_ids:
            self.listeners.pop(host_id).stop()
        self._watchdog()

    def _watchdog(self) -> None:
        connected = [lst for lst in self.listeners.values() if lst.connected.is_set()]
        if connected:
            with ThreadPoolExecutor(max_workers=min(8, len(connected))) as pool:
                list(pool.map(HostListener.check, connected))

    def run(self, stop: threading.Event, tick_seconds: float | None = None) -> None:
        tick_seconds = settings.LISTENER_TICK_SECONDS if tick_seconds is None else tick_seconds
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - e.g. the database restarting: try again next tick
                    logger.exception("events supervisor tick failed")
                stop.wait(tick_seconds)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        for host_id, listener in list(self.listeners.items()):
            listener.stop()
            host_services.release_lease(host_id, LEASE_KIND, self.holder)
        self.listeners.clear()
