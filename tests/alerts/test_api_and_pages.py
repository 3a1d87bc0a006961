"""API and pages: validation as field errors, roles (viewer reads, operator acks and
silences, admin manages rules), pages render and escape untrusted names."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.alerts import evaluator
from apps.alerts.models import Alert, AlertRule, Silence
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(team, make_user):
    return {role: make_user(team, role) for role in ("viewer", "operator", "admin")}


@pytest.fixture
def firing(team, make_container, sample, cpu_rule):
    c = make_container(name="<b>evil</b>")
    sample(c, cpu=99.0)
    evaluator.evaluate_rule(cpu_rule)
    return Alert.objects.get(rule=cpu_rule)


def test_rule_api_create_validates_and_needs_admin(team, users):
    url = reverse("api:alertrule-list")
    body = {"team": team.pk, "name": "cpu", "kind": "metric", "metric": "cpu", "threshold": 50, "for_seconds": 30}
    assert api_client_for(users["operator"]).post(url, body, format="json").status_code == 403
    admin = api_client_for(users["admin"])
    bad = admin.post(url, {**body, "threshold": None, "label_selector": ["x"]}, format="json")
    assert bad.status_code == 400
    details = bad.json()["error"]["details"]
    assert "threshold" in details and "label_selector" in details
    regex = admin.post(url, {"team": team.pk, "name": "logs", "kind": "log", "log_pattern": "(unclosed"}, format="json")
    assert regex.status_code == 400 and "log_pattern" in regex.json()["error"]["details"]
    ok = admin.post(url, body, format="json")
    assert ok.status_code == 201, ok.content
    assert admin.post(url, body, format="json").status_code == 400  # duplicate name
    assert AlertRule.objects.get(pk=ok.json()["id"]).team == team


def test_alert_list_and_ack_roles(team, users, firing):
    viewer = api_client_for(users["viewer"])
    listed = viewer.get(reverse("api:alert-list")).json()
    assert [a["fingerprint"] for a in listed["results"]] == [firing.fingerprint]
    assert listed["results"][0]["evidence"][0]["value"] == 99.0
    ack = reverse("api:alert-ack", args=[firing.pk])
    assert viewer.post(ack).status_code == 403
    done = api_client_for(users["operator"]).post(ack)
    assert done.status_code == 200 and done.json()["acknowledged_by"] == users["operator"].pk


def test_silence_api(team, users, firing):
    url = reverse("api:silence-list")
    op = api_client_for(users["operator"])
    assert api_client_for(users["viewer"]).post(url, {"team": team.pk, "comment": "x"}, format="json").status_code == 403
    bad = op.post(url, {"team": team.pk, "comment": "deploy"}, format="json")
    assert bad.status_code == 400 and "ends_at" in bad.json()["error"]["details"]
    ok = op.post(url, {"team": team.pk, "comment": "deploy", "rule": firing.rule_id, "duration_seconds": 600}, format="json")
    assert ok.status_code == 201, ok.content
    silence = Silence.objects.get(pk=ok.json()["id"])
    assert silence.created_by == users["operator"] and 590 < (silence.ends_at - silence.starts_at).total_seconds() <= 600


def test_pages(team, users, firing):
    client = Client()
    client.force_login(users["operator"])
    page = client.get(reverse("alerts:list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "CPU high" in body and "&lt;b&gt;evil&lt;/b&gt;" in body and "<b>evil</b>" not in body
    partial = client.get(reverse("alerts:list"), HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "CPU high" in partial.content.decode()
    detail = client.get(reverse("alerts:detail", args=[firing.pk])).content.decode()
    assert "Evidence" in detail and "99.0" in detail
    assert client.post(reverse("alerts:ack", args=[firing.pk])).status_code == 302
    firing.refresh_from_db()
    assert firing.acknowledged_by == users["operator"]
    assert client.get(reverse("alerts:rule_create")).status_code == 403  # rules: admins
    made = client.post(reverse("alerts:silences"), {"comment": "night work", "duration_minutes": "30", "label_selector": "app=web"})
    assert made.status_code == 302 and Silence.objects.get(team=team).label_selector == {"app": "web"}


def test_rule_form_errors(team, users):
    client = Client()
    client.force_login(users["admin"])
    assert "Log pattern" in client.get(reverse("alerts:rule_create")).content.decode()
    bad = client.post(reverse("alerts:rule_create"), {
        "name": "x", "kind": "metric", "severity": "warning", "scope": "labels", "label_selector": "=oops",
        "operator": ">", "hysteresis": "0", "for_seconds": "0", "restart_count": "3", "restart_window_seconds": "600",
        "resolve_after_seconds": "900", "horizon_seconds": "1800", "fit_seconds": "3600", "sigmas": "4"})
    assert bad.status_code == 400
    errors = bad.context["form"].errors
    assert "label_selector" in errors and "metric" in errors and "threshold" in errors
    good = client.post(reverse("alerts:rule_create"), {
        "name": "web cpu", "kind": "metric", "severity": "warning", "scope": "labels", "label_selector": "app=web",
        "metric": "cpu", "threshold": "50", "operator": ">", "hysteresis": "5", "for_seconds": "30", "restart_count": "3",
        "restart_window_seconds": "600", "resolve_after_seconds": "900", "horizon_seconds": "1800", "fit_seconds": "3600",
        "sigmas": "4", "enabled": "on"})
    assert good.status_code == 302
    assert AlertRule.objects.get(team=team, name="web cpu").label_selector == {"app": "web"}


def test_forecast_panel_on_container_page(team, users, make_container, sample):
    c = make_container(name="grower")
    mib = 1024 * 1024
    for i in range(10):
        sample(c, ago=(9 - i) * 60, mem=float((i + 1) * mib), mem_limit=float(20 * mib))
    client = Client()
    client.force_login(users["viewer"])
    body = client.get(reverse("containers:detail", args=[c.pk])).content.decode()
    assert "Alerts and memory forecast" in body and "reaches its limit" in body
