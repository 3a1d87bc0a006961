"""One factory per model, for the generic isolation test (tests/test_isolation.py).

`FACTORIES` maps a model label ("hosts.dockerhost") to a Factory whose `make(team)` creates
one instance belonging to `team` (or returns the team itself, for Team). A new app adds its
models here; the isolation test fails, naming the model, when one is missing.

Scopes:
- "team": a row of the team; its members see it, other teams never do, superusers do.
- "owner": a row of one person (API tokens): other teams never see it, nor do teammates.
- "installation": installation configuration; team staff never see it, superusers do.

Objects of "team" and "owner" scope must carry `tag(team, kind)` in their str(): the test
searches every page another team's user sees for that marker.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.core.roles import Role


@dataclass(frozen=True)
class Factory:
    make: Callable
    scope: str = "team"


FACTORIES: dict[str, Factory] = {}

# WebSocket routes (by URL name) -> the model label whose object the route streams, or
# None for the team channel (narrowed with ?team=). Add every new route here.
WS_ROUTES: dict[str, str | None] = {
    "ws-events": None,
    "ws-operation": "activity.operation",
    "ws-container-logs": "containers.container",
    "ws-container-exec": "containers.container",
    "ws-metrics-container": "containers.container",
    "ws-metrics-host": "hosts.dockerhost",
}

# WebSocket routes that need more than the VIEW role (roles below are refused before accept).
WS_ROUTE_ACTIONS: dict[str, str] = {
    "ws-container-exec": "operate",
}

# API routes that are not viewsets over a model, with the reason they need no isolation check.
NON_OBJECT_ROUTES: dict[str, str] = {
    "auth-token": "public: exchanges the posted username/password for a token of that user",
    "compose-validate": "stateless: validates the posted text; a `host` for port/image warnings is looked up with for_user (404 across teams, tested in tests/compose)",
}


def factory(label: str, scope: str = "team"):
    def register(fn):
        FACTORIES[label] = Factory(fn, scope)
        return fn

    return register


def tag(team, kind: str) -> str:
    """A marker unique to this object, safe in HTML and JSON."""
    return f"iso{team.pk}{kind}{uuid.uuid4().hex[:8]}"


def member(team, kind="member", role=Role.VIEWER):
    from apps.accounts.models import Membership

    user = get_user_model().objects.create_user(
        username=tag(team, kind), email=f"{kind}@example.test", password="x-unused-pw"
    )
    Membership.objects.create(user=user, team=team, role=role)
    return user


# --- accounts
@factory("accounts.team")
def make_team(team):
    return team  # the isolation test names teams with a marker


@factory("accounts.user")
def make_user(team):
    return member(team, "user")


@factory("accounts.membership")
def make_membership(team):
    from apps.accounts.models import Membership

    return Membership.objects.get(user=member(team, "membership"), team=team)


@factory("accounts.invitation")
def make_invitation(team):
    from apps.accounts.models import Invitation, hash_secret

    marker = tag(team, "invite")
    return Invitation.objects.create(
        team=team,
        email=f"{marker}@example.test",
        token_hash=hash_secret(marker),
        expires_at=timezone.now() + timedelta(days=7),
    )


@factory("accounts.apitoken", scope="owner")
def make_apitoken(team):
    from apps.accounts.models import ApiToken

    token, _raw = ApiToken.issue(member(team, "tokenowner"), tag(team, "token"))
    return token


@factory("accounts.loginattempt", scope="installation")
def make_loginattempt(team):
    from apps.accounts.models import LoginAttempt

    return LoginAttempt.objects.create(username=tag(team, "login"), remote_addr="127.0.0.1")


# --- activity
@factory("activity.event")
def make_event(team):
    from apps.activity.models import Event

    # An engine-state kind, so the docker-events/ route (container./image./... kinds) lists it too.
    return Event.objects.create(team=team, kind="container.isolation", summary=tag(team, "event"))


@factory("activity.auditevent")
def make_auditevent(team):
    from apps.activity.models import AuditEvent

    return AuditEvent.objects.create(
        team=team, action="action", name="isolation", object_type="isolation", object_repr=tag(team, "audit")
    )


@factory("activity.operation")
def make_operation(team):
    from apps.activity.models import Operation

    return Operation.objects.create(team=team, kind="isolation.test", target_name=tag(team, "op"))


# --- hosts
@factory("hosts.dockerhost")
def make_dockerhost(team):
    from apps.hosts.models import DockerHost

    return DockerHost.objects.create(team=team, name=tag(team, "host"), url="tcp://127.0.0.1:1")


@factory("hosts.hostlease")
def make_hostlease(team):
    from apps.hosts.models import HostLease

    return HostLease.objects.create(host=make_dockerhost(team), kind=tag(team, "lease"))


# --- installation configuration (superusers only)
@factory("auth.group", scope="installation")
def make_group(team):
    from django.contrib.auth.models import Group

    return Group.objects.create(name=tag(team, "group"))


@factory("django_celery_beat.intervalschedule", scope="installation")
def make_interval(team):
    from django_celery_beat.models import IntervalSchedule

    return IntervalSchedule.objects.create(every=team.pk + 1000, period=IntervalSchedule.SECONDS)


@factory("django_celery_beat.crontabschedule", scope="installation")
def make_crontab(team):
    from django_celery_beat.models import CrontabSchedule

    return CrontabSchedule.objects.create(minute=str(team.pk % 60), hour="3")


@factory("django_celery_beat.solarschedule", scope="installation")
def make_solar(team):
    from django_celery_beat.models import SolarSchedule

    return SolarSchedule.objects.create(event="sunrise", latitude=team.pk % 80, longitude=team.pk % 170)


@factory("django_celery_beat.clockedschedule", scope="installation")
def make_clocked(team):
    from django_celery_beat.models import ClockedSchedule

    return ClockedSchedule.objects.create(clocked_time=timezone.now() + timedelta(days=team.pk))


@factory("django_celery_beat.periodictask", scope="installation")
def make_periodic_task(team):
    from django_celery_beat.models import PeriodicTask

    return PeriodicTask.objects.create(name=tag(team, "ptask"), task="activity.prune", interval=make_interval(team))


# --- containers (mirror rows of a host's engine, and registry credentials)
def _mirror(model, team, kind, **fields):
    marker = tag(team, kind)
    return model.objects.create(
        team=team, host=make_dockerhost(team), **{k: (marker if v is None else v) for k, v in fields.items()}
    )


@factory("containers.container")
def make_container(team):
    from apps.containers.models import Container

    return _mirror(Container, team, "ctr", name=None, docker_id=uuid.uuid4().hex * 2)


@factory("containers.image")
def make_image(team):
    from apps.containers.models import Image

    marker = tag(team, "img")
    return Image.objects.create(
        team=team,
        host=make_dockerhost(team),
        docker_id="sha256:" + uuid.uuid4().hex * 2,
        repo_tags=[f"{marker}:1"],
        tags_text=f"{marker}:1",
    )


@factory("containers.volume")
def make_volume(team):
    from apps.containers.models import Volume

    return _mirror(Volume, team, "vol", name=None)


@factory("containers.network")
def make_network(team):
    from apps.containers.models import Network

    return _mirror(Network, team, "net", name=None, docker_id=uuid.uuid4().hex * 2)


@factory("containers.registrycredential")
def make_registrycredential(team):
    from apps.containers.models import RegistryCredential

    return RegistryCredential.objects.create(
        team=team, registry=f"{tag(team, 'reg')}.example.test:5000", username="robot", password=tag(team, "pw")
    )


# --- scans
@factory("scans.vulnerabilitydatabase")
def make_vulnerabilitydatabase(team):
    from apps.scans.models import VulnerabilityDatabase

    return VulnerabilityDatabase.objects.create(team=team, name=tag(team, "vdb"), source="isolation")


@factory("scans.vulnerability")
def make_vulnerability(team):
    from apps.scans.models import Vulnerability

    return Vulnerability.objects.create(database=make_vulnerabilitydatabase(team), osv_id=tag(team, "osv"))


@factory("scans.affectedpackage")
def make_affectedpackage(team):
    from apps.scans.models import AffectedPackage

    vuln = make_vulnerability(team)
    return AffectedPackage.objects.create(
        database=vuln.database, vulnerability=vuln, ecosystem="PyPI", name=tag(team, "pkg")
    )


@factory("scans.scan")
def make_scan(team):
    from apps.scans.models import Scan

    return Scan.objects.create(team=team, image_ref=tag(team, "scan") + ":1")


@factory("scans.suppression")
def make_suppression(team):
    from apps.scans.models import Suppression

    return Suppression.objects.create(team=team, vulnerability_id=tag(team, "supp"), reason="isolation")


@factory("scans.finding")
def make_finding(team):
    from apps.scans.models import Finding

    return Finding.objects.create(
        team=team,
        scan=make_scan(team),
        vulnerability_id=tag(team, "find"),
        package="pkg",
        package_type="python",
        version="1.0",
    )


@factory("scans.configaudit")
def make_configaudit(team):
    from apps.scans.models import ConfigAudit

    return ConfigAudit.objects.create(team=team, container_name=tag(team, "caudit"))


@factory("scans.auditexclusion")
def make_auditexclusion(team):
    from apps.scans.models import AuditExclusion

    return AuditExclusion.objects.create(
        team=team, check_id="5.10", container_name=tag(team, "excl"), reason="isolation"
    )


@factory("scans.policy")
def make_policy(team):
    from apps.scans.models import Policy

    return Policy.objects.create(team=team, name=tag(team, "policy"), rule=Policy.Rule.NO_PRIVILEGED)


# --- compose (stacks, file versions, stack folders, team templates)
@factory("compose.composeproject")
def make_composeproject(team):
    from apps.compose.models import ComposeProject

    return ComposeProject.objects.create(team=team, host=make_dockerhost(team), name=tag(team, "stack"))


@factory("compose.composefileversion")
def make_composefileversion(team):
    from apps.compose.models import ComposeFileVersion

    project = make_composeproject(team)
    return ComposeFileVersion.objects.create(
        project=project, number=1, compose_text=f"# {tag(team, 'ver')}\n", comment=tag(team, "vc")
    )


@factory("compose.stackfolder")
def make_stackfolder(team):
    from apps.compose.models import StackFolder

    return StackFolder.objects.create(host=make_dockerhost(team), path=f"/opt/{tag(team, 'folder')}")


@factory("compose.composetemplate")
def make_composetemplate(team):
    from apps.compose.models import ComposeTemplate

    return ComposeTemplate.objects.create(team=team, name=tag(team, "tpl"), compose_text="services: {}\n")


# --- monitoring (time series of a team's containers and hosts)
def _series_row(model, team, **fields):
    from apps.containers.models import Container

    container = make_container(team)
    assert isinstance(container, Container)
    return model.objects.create(host_id=container.host_id, container=container, **fields)


@factory("monitoring.sample")
def make_sample(team):
    from apps.monitoring.models import Sample

    return _series_row(Sample, team, ts=timezone.now(), cpu=1.0)


@factory("monitoring.minuterollup")
def make_minuterollup(team):
    from apps.monitoring.models import MinuteRollup

    return _series_row(
        MinuteRollup, team, bucket=timezone.now().replace(second=0, microsecond=0), cpu_sum=1.0, cpu_count=1
    )


@factory("monitoring.hourrollup")
def make_hourrollup(team):
    from apps.monitoring.models import HourRollup

    return _series_row(
        HourRollup, team, bucket=timezone.now().replace(minute=0, second=0, microsecond=0), cpu_sum=1.0, cpu_count=1
    )


@factory("monitoring.collectorstate")
def make_collectorstate(team):
    from apps.monitoring.models import CollectorState

    return CollectorState.objects.create(host=make_dockerhost(team), method="api")


@factory("monitoring.rollupstate", scope="installation")
def make_rollupstate(team):
    from apps.monitoring.models import RollupState

    return RollupState.objects.create(tier=f"t{team.pk}", watermark=timezone.now())


# --- backups (artifacts, restores, team keys, schedules)
@factory("backups.backup")
def make_backup(team):
    from apps.backups.models import Backup

    return Backup.objects.create(
        team=team,
        kind="volume",
        host=make_dockerhost(team),
        target_name=tag(team, "bkp"),
        status="completed",
        folder=f"team-{team.pk}/x",
    )


@factory("backups.restore")
def make_restore(team):
    from apps.backups.models import Restore

    backup = make_backup(team)
    return Restore.objects.create(team=team, backup=backup, host=backup.host, target_name=tag(team, "rst"))


@factory("backups.backupkey")
def make_backupkey(team):
    from apps.backups.models import BackupKey

    return BackupKey.objects.create(
        team=team, key_id=tag(team, "key")[:40], secret="QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    )


@factory("backups.backupschedule")
def make_backupschedule(team):
    from apps.backups.models import BackupSchedule

    return BackupSchedule.objects.create(
        team=team, name=tag(team, "sched"), host=make_dockerhost(team), target_name=tag(team, "schedvol")
    )


# --- updates (policies, windows, check results, update runs)
@factory("updates.updatepolicy")
def make_updatepolicy(team):
    from apps.updates.models import UpdatePolicy

    return UpdatePolicy.objects.create(team=team, container=make_container(team), strategy="patch")


@factory("updates.updatewindow")
def make_updatewindow(team):
    from apps.updates.models import UpdateWindow

    return UpdateWindow.objects.create(team=team, name=tag(team, "window"), start="03:00", duration_minutes=60)


@factory("updates.updatecheck")
def make_updatecheck(team):
    from apps.updates.models import UpdateCheck

    container = make_container(team)
    return UpdateCheck.objects.create(
        team=team,
        container=container,
        host=container.host,
        image_ref=f"{tag(team, 'chk')}:1",
        strategy="digest",
        status="up_to_date",
        checked_at=timezone.now(),
    )


@factory("updates.updaterun")
def make_updaterun(team):
    from apps.updates.models import UpdateRun

    container = make_container(team)
    return UpdateRun.objects.create(
        team=team,
        container=container,
        container_name=tag(team, "run"),
        host=container.host,
        from_ref="a:1",
        to_ref="a:2",
    )


NON_OBJECT_ROUTES["version"] = (
    "installation-wide: DockerForge's version and release-feed verdict, no team data (tests/updates)"
)


# --- ai (provider settings, analyses)
@factory("ai.aiprovidersettings")
def make_aiprovidersettings(team):
    from apps.ai.models import AIProviderSettings

    return AIProviderSettings.objects.create(team=team, provider="offline", model=tag(team, "aimodel"))


@factory("ai.analysis")
def make_analysis(team):
    from apps.ai.models import Analysis

    return Analysis.objects.create(team=team, target_kind="container", target_name=tag(team, "analysis"))


# --- notifications
@factory("notifications.channel")
def make_notification_channel(team):
    from apps.notifications.models import Channel

    return Channel.objects.create(
        team=team,
        name=tag(team, "chan"),
        kind="webhook",
        url="http://127.0.0.1:1/hook",
        signing_secret=tag(team, "sig"),
    )


@factory("notifications.route")
def make_notification_route(team):
    from apps.notifications.models import Route

    route = Route.objects.create(team=team, name=tag(team, "route"))
    route.channels.set([make_notification_channel(team)])
    return route


@factory("notifications.notificationgroup")
def make_notification_group(team):
    from apps.notifications.models import NotificationGroup

    route = make_notification_route(team)
    return NotificationGroup.objects.create(team=team, route=route, channel=route.channels.get(), key=tag(team, "gkey"))


@factory("notifications.notificationitem")
def make_notification_item(team):
    from apps.notifications.models import NotificationItem

    return NotificationItem.objects.create(
        group=make_notification_group(team), fingerprint=tag(team, "item"), status="event"
    )


@factory("notifications.delivery")
def make_notification_delivery(team):
    from apps.notifications.models import Delivery

    return Delivery.objects.create(team=team, channel=make_notification_channel(team), subject=tag(team, "delivery"))


@factory("notifications.deliveryattempt")
def make_notification_attempt(team):
    from apps.notifications.models import DeliveryAttempt

    return DeliveryAttempt.objects.create(
        delivery=make_notification_delivery(team), number=1, status="ok", response_code=200
    )


# --- alerts (rules, alerts, silences)
@factory("alerts.alertrule")
def make_alertrule(team):
    from apps.alerts.models import AlertRule

    return AlertRule.objects.create(team=team, name=tag(team, "rule"), kind="metric", metric="cpu", threshold=50.0)


@factory("alerts.alert")
def make_alert(team):
    from apps.alerts.models import Alert, fingerprint

    rule = make_alertrule(team)
    host = make_dockerhost(team)
    return Alert.objects.create(
        team=team,
        rule=rule,
        fingerprint=fingerprint(rule.pk, "host", host.pk),
        status="firing",
        target_kind="host",
        target_id=host.pk,
        target_name=host.name,
        host=host,
    )


@factory("alerts.silence")
def make_silence(team):
    from apps.alerts.models import Silence

    return Silence.objects.create(team=team, comment=tag(team, "silence"), ends_at=timezone.now() + timedelta(hours=1))


# --- ai chat (conversations and their messages)
@factory("ai.conversation")
def make_conversation(team):
    from apps.ai.models import Conversation

    return Conversation.objects.create(team=team, container=make_container(team), target_name=tag(team, "chat"),
                                       title=tag(team, "conversation"))


@factory("ai.chatmessage")
def make_chatmessage(team):
    from apps.ai.models import ChatMessage

    return ChatMessage.objects.create(conversation=make_conversation(team), seq=1, role="user", content=tag(team, "chatmsg"))


WS_ROUTES["ws-ai-chat"] = "ai.conversation"  # viewers watch; sending needs operate (checked per message, tests/ws/test_chat_socket.py)


# --- backups: storage targets (bkincr)
@factory("backups.storagetarget")
def make_storagetarget(team):
    from apps.backups.models import StorageTarget

    return StorageTarget.objects.create(
        team=team, name=tag(team, "target"), kind="s3", endpoint_url="http://127.0.0.1:1", bucket="df-iso",
        access_key_id=tag(team, "akid"), secret_key=tag(team, "secret"),
    )


# --- ai: agent steps and fix proposals
@factory("ai.agentstep")
def make_agentstep(team):
    from apps.ai.models import AgentStep

    return AgentStep.objects.create(team=team, analysis=make_analysis(team), number=1, agent="logs", tool="logs",
                                    input={"tail": 10}, output_summary=tag(team, "step"))


@factory("ai.fixproposal")
def make_fixproposal(team):
    from apps.ai.models import FixProposal

    return FixProposal.objects.create(team=team, analysis=make_analysis(team), kind="restart", rationale=tag(team, "fix"))


# --- ai: live analysis stream (aiui)
WS_ROUTES["ws-ai-analysis"] = "ai.analysis"  # viewers watch agent steps and status changes (tests/ws/test_analysis_socket.py)
