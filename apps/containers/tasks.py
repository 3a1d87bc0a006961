"""Mirror tasks: the periodic full sync (beat) and one host's sync. Ids in, JSON out.

The on-demand sync a person asks for is the hosts app's Operation (`POST hosts/{id}/sync/`),
which runs this sync through core.registries.host_sync_hooks.
"""

from celery import shared_task

from apps.engine.errors import TransientEngineError
from apps.hosts import services as host_services
from apps.hosts.models import DockerHost

from . import sync

SYNC_LEASE = "mirror-sync"
SYNC_SOFT_LIMIT = 120


@shared_task(name="containers.sync_all", ignore_result=True, soft_time_limit=30, time_limit=60)
def sync_all() -> int:
    """Queue a sync of every host not known to be down (the listener resyncs those when back)."""
    ids = list(DockerHost.objects.exclude(status=DockerHost.Status.DOWN).values_list("pk", flat=True))
    for host_id in ids:
        sync_host.delay(host_id)
    return len(ids)


@shared_task(
    name="containers.sync_host", bind=True, autoretry_for=(TransientEngineError,), retry_backoff=True,
    max_retries=3, soft_time_limit=SYNC_SOFT_LIMIT, time_limit=SYNC_SOFT_LIMIT + 30, acks_late=True,
)
def sync_host(self, host_id: int, full: bool = False) -> dict:
    """Idempotent: re-reads the engine; a lease keeps two syncs of one host from overlapping."""
    host = DockerHost.objects.filter(pk=host_id).first()
    if host is None:
        return {"skipped": "no such host"}
    holder = f"sync:{self.request.id or 'eager'}"
    if not host_services.acquire_lease(host_id, SYNC_LEASE, holder, SYNC_SOFT_LIMIT + 30):
        return {"skipped": "another sync of this host is running"}
    try:
        return sync.sync_host(host, full=full).as_dict()
    finally:
        host_services.release_lease(host_id, SYNC_LEASE, holder)
