"""Update checks: is there a new digest for the running tag, or a newer tag the policy allows?

`check_containers(containers)` checks many containers with one RegistryClient per team, so a
registry is asked once per repository (tags) and once per tag (digest) per round. Results are
stored on UpdateCheck (one row per container) and a *new* finding publishes `update.available`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from apps.containers.models import Container, Image
from apps.core import events

from . import versions
from .models import EXCLUDE_LABEL, MONITOR_LABEL, UpdateCheck, UpdatePolicy
from .registry import RegistryClient, RegistryError, parse_reference

logger = logging.getLogger(__name__)
TRUE = {"1", "true", "yes", "on"}


@dataclass
class EffectivePolicy:
    strategy: str = "digest"
    include_regex: str = ""
    exclude_regex: str = ""
    allow_prerelease: bool = False
    monitor_only: bool = False
    auto_update: bool = False
    health_seconds: float | None = None


def policy_for(container: Container, team_default: UpdatePolicy | None = None, *, lookup_default: bool = True) -> EffectivePolicy:
    """The container's own policy, else the team default, else digest-only; labels add on."""
    own = UpdatePolicy.objects.filter(container=container).first()
    base = own or team_default or (UpdatePolicy.objects.filter(team_id=container.team_id, container__isnull=True).first() if lookup_default else None)
    fields = EffectivePolicy.__dataclass_fields__
    eff = EffectivePolicy(**{k: getattr(base, k) for k in fields}) if base else EffectivePolicy()
    if str(container.labels.get(MONITOR_LABEL, "")).lower() in TRUE:
        eff.monitor_only = True
    return eff


def is_excluded(container: Container) -> bool:
    return str((container.labels or {}).get(EXCLUDE_LABEL, "")).lower() in TRUE


def container_ref(container: Container) -> str:
    """The reference the container was created from (Config.Image), as the engine recorded it."""
    return ((container.inspect or {}).get("Config") or {}).get("Image") or container.image


def local_digests(container: Container, ref) -> list[str]:
    """The manifest digests the running image is known by in this repository (RepoDigests)."""
    image = Image.objects.filter(host_id=container.host_id, docker_id=container.image_id).only("repo_digests").first()
    prefix = f"{ref.name}@"
    hub_prefix = f"docker.io/{ref.repository}@"
    return sorted({d.split("@", 1)[1] for d in (image.repo_digests if image else []) if d.startswith((prefix, hub_prefix))})


@dataclass
class CheckOutcome:
    status: str
    digest_update: bool = False
    remote_digest: str = ""
    newer_tag: str = ""
    newest_by_level: dict = field(default_factory=dict)
    target_ref: str = ""
    local_digests: list = field(default_factory=list)
    error: str = ""


def evaluate(container: Container, policy: EffectivePolicy, client: RegistryClient) -> CheckOutcome:
    """Ask the registry about one container (no database writes)."""
    if is_excluded(container):
        return CheckOutcome(UpdateCheck.Status.EXCLUDED)
    try:
        ref = parse_reference(container_ref(container))
        if ref.digest or not ref.tag:
            return CheckOutcome(UpdateCheck.Status.EXCLUDED, error="Pinned to a digest: nothing to check")
        known = local_digests(container, ref)
        remote = client.digest(ref)
        by_level = {}
        if policy.strategy != "digest" and versions.parse_tag(ref.tag):
            by_level = versions.newest_by_level(ref.tag, client.tags(ref), include=policy.include_regex,
                                                exclude=policy.exclude_regex, allow_prerelease=policy.allow_prerelease)
    except RegistryError as exc:
        return CheckOutcome(UpdateCheck.Status.ERROR, error=str(exc))
    # An image never pushed nor pulled has no RepoDigests: nothing to compare, not an update.
    digest_update = bool(known) and remote not in known
    newer = versions.allowed_tag(policy.strategy, by_level)
    target = ref.with_tag(newer) if newer else (ref.with_tag(ref.tag) if digest_update else "")
    status = UpdateCheck.Status.AVAILABLE if target else UpdateCheck.Status.UP_TO_DATE
    return CheckOutcome(status, digest_update, remote, newer, by_level, target, known)


def _store(container: Container, policy: EffectivePolicy, outcome: CheckOutcome) -> tuple[UpdateCheck, bool]:
    """Save the outcome; True when it announces an update the last check did not."""
    previous = UpdateCheck.objects.filter(container=container).first()
    was = (previous.target_ref, previous.remote_digest) if previous and previous.has_update else None
    row, _ = UpdateCheck.objects.update_or_create(container=container, defaults={
        "team_id": container.team_id, "host_id": container.host_id, "image_ref": container_ref(container)[:500],
        "strategy": policy.strategy, "status": outcome.status, "local_digests": outcome.local_digests,
        "remote_digest": outcome.remote_digest, "digest_update": outcome.digest_update, "newer_tag": outcome.newer_tag,
        "newest_by_level": outcome.newest_by_level, "target_ref": outcome.target_ref, "monitor_only": policy.monitor_only,
        "error": outcome.error, "checked_at": timezone.now(),
    })
    return row, row.has_update and was != (row.target_ref, row.remote_digest)


def _publish(container: Container, row: UpdateCheck) -> None:
    from django.urls import reverse

    what = f"{row.newer_tag} (newer tag)" if row.newer_tag else "a new digest of the same tag"
    events.publish(
        "update.available", container.team_id, host=container.host,
        target=events.ref("container", container, container.name, container.labels),
        summary=f"Update for {container.name}: {row.image_ref} -> {what}",
        url=reverse("containers:detail", args=[container.pk]),
        data={"image": row.image_ref, "target": row.target_ref, "digest_update": row.digest_update, "newer_tag": row.newer_tag,
              "remote_digest": row.remote_digest, "newest_by_level": row.newest_by_level, "monitor_only": row.monitor_only},
    )


def check_containers(containers: Iterable[Container]) -> dict:
    """Check containers (any teams); returns counts and the registry requests made."""
    by_team: dict[int, list[Container]] = defaultdict(list)
    for c in containers:
        by_team[c.team_id].append(c)
    counts: dict[str, int] = defaultdict(int)
    requests_made = 0
    for team_id, rows in by_team.items():
        default = UpdatePolicy.objects.filter(team_id=team_id, container__isnull=True).first()
        with RegistryClient(team_id) as client:
            for container in rows:
                policy = policy_for(container, default, lookup_default=False)
                row, is_new = _store(container, policy, evaluate(container, policy, client))
                counts[row.status] += 1
                if is_new:
                    _publish(container, row)
            requests_made += client.requests
    return {"checked": sum(counts.values()), "requests": requests_made, **counts}


def checkable(qs=None):
    qs = qs if qs is not None else Container.objects.all()
    return qs.present().select_related("host")
