"""Celery tasks: the periodic evaluation (beat, ALERTS_INTERVAL) and one event's evaluation."""

from celery import shared_task

from . import evaluator


@shared_task(name="alerts.evaluate", bind=True, soft_time_limit=120, time_limit=150)
def evaluate(self, team_ids: list[int] | None = None) -> dict:
    result = evaluator.evaluate(team_ids)
    return {"rules": result.rules, "observations": result.observations, "errors": result.errors}


@shared_task(name="alerts.on_event", bind=True, soft_time_limit=60, time_limit=90)
def on_event(self, envelope: dict) -> int:
    return evaluator.on_event(envelope)


def dispatch_event(envelope: dict) -> None:
    """Event-bus subscriber: evaluate off the publisher's thread (the events listener)."""
    on_event.delay(envelope)
