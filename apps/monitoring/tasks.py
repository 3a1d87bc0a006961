"""Celery tasks: one collector round (tests, or installations without the long-running
`run_collectors` process), rollups and retention (beat)."""

from celery import shared_task

from . import rollups
from .collector import CollectorPool


@shared_task(name="monitoring.collect_round", bind=True, soft_time_limit=60, time_limit=90)
def collect_round(self, host_ids: list[int] | None = None) -> list[dict]:
    """One round for every host whose collector lease this worker gets (or the given ones)."""
    pool = CollectorPool()
    results = pool.round(host_ids)
    return [{"host": r.host_id, "method": r.method, "containers": r.containers, "seconds": r.seconds} for r in results]


@shared_task(name="monitoring.rollup", bind=True, soft_time_limit=300, time_limit=330)
def rollup(self) -> dict:
    return rollups.roll_up_all()


@shared_task(name="monitoring.prune", bind=True, soft_time_limit=600, time_limit=660)
def prune(self) -> dict:
    return rollups.prune()
