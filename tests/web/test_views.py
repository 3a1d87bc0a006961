"""The base layout, dashboard, activity feed and operation pages (server-rendered HTML)."""

import pytest
from django.urls import reverse

from apps.activity.models import Event, Operation
from apps.core import events
from apps.core.registries import Panel, panels
from apps.core.roles import Role
from apps.hosts.models import DockerHost

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_a(two_teams):
    return two_teams["a"]


def logged_in(client, user):
    client.force_login(user)
    return client


def test_pages_need_login(client):
    for url in ("/", "/activity/", "/activity/operations/"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_base_layout_nav_switcher_and_csrf(client, two_teams, make_user):
    user = make_user(two_teams["a"]["team"], Role.ADMIN, username="both")
    from apps.accounts.models import Membership

    Membership.objects.create(user=user, team=two_teams["b"]["team"], role=Role.VIEWER)
    html = logged_in(client, user).get("/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert 'data-ws-events="/ws/events/?team=' in html
    assert 'href="/activity/"' in html and 'aria-current="page"' in html
    assert 'class="skip-link" href="#main"' in html
    assert html.count('<option value="') == 2  # both of the user's teams in the switcher
    assert 'id="live-status"' in html and "data-theme-toggle" in html


def test_team_switcher_changes_the_dashboard(client, two_teams, make_user):
    a, b = two_teams["a"]["team"], two_teams["b"]["team"]
    user = make_user(a, Role.VIEWER, username="switcher")
    from apps.accounts.models import Membership

    Membership.objects.create(user=user, team=b, role=Role.VIEWER)
    DockerHost.objects.create(team=a, name="host-of-a", url="tcp://127.0.0.1:1")
    DockerHost.objects.create(team=b, name="host-of-b", url="tcp://127.0.0.1:1")
    client = logged_in(client, user)
    assert "host-of-a" in client.get("/").content.decode()
    resp = client.post(reverse("accounts:switch_team"), {"team": b.pk, "next": "/"})
    assert resp.status_code == 302
    html = client.get("/").content.decode()
    assert "host-of-b" in html and "host-of-a" not in html


def test_dashboard_hosts_counts_events_and_running_operations(client, team_a, two_teams):
    team = team_a["team"]
    DockerHost.objects.create(team=team, name="up-1", url="tcp://127.0.0.1:1", status="up")
    DockerHost.objects.create(team=team, name="down-1", url="tcp://127.0.0.1:1", status="down")
    DockerHost.objects.create(team=two_teams["b"]["team"], name="other-team-host", url="tcp://127.0.0.1:1", status="up")
    events.publish("host.down", team, severity="error", summary="down-1 stopped answering")
    events.publish("host.up", two_teams["b"]["team"], summary="secret of team B")
    Operation.objects.create(team=team, kind="host.sync", target_name="up-1", status="running")
    Operation.objects.create(team=team, kind="host.old", target_name="done-op", status="succeeded")
    html = logged_in(client, team_a["viewer"]).get("/").content.decode()
    assert 'data-count="up">1<' in html and 'data-count="down">1<' in html and 'data-count="total">2<' in html
    assert "up-1" in html and "down-1" in html and "other-team-host" not in html
    assert "down-1 stopped answering" in html and "secret of team B" not in html
    assert "host.sync" in html and "done-op" not in html  # only operations in progress
    assert 'hx-trigger="df:event from:body"' in html


def test_dashboard_htmx_request_gets_only_the_live_partial(client, team_a):
    resp = logged_in(client, team_a["viewer"]).get("/", HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert html.lstrip().startswith('<div id="dashboard-live"')
    assert "<html" not in html
    assert "HX-Request" in resp["Vary"]


def test_dashboard_renders_registered_panels(client, team_a):
    from django.template.loader import render_to_string

    def render(request, obj):
        return render_to_string("activity/_event_list.html", {"events": [], "empty": "panel from a later app"})

    panels.add("dashboard", Panel(order=50, name="test-panel", title="Test panel", render=render))
    try:
        html = logged_in(client, team_a["viewer"]).get("/").content.decode()
    finally:
        panels._by_page["dashboard"].pop("test-panel")
    assert "Test panel" in html and "panel from a later app" in html


def test_feed_escapes_untrusted_text_and_unsafe_urls(client, team_a):
    events.publish(
        "container.died", team_a["team"], summary="<script>alert(1)</script>", url="javascript:alert(2)",
        target={"kind": "container", "id": "x", "name": "<b>c</b>", "labels": {}},
    )
    html = logged_in(client, team_a["viewer"]).get("/activity/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "javascript:alert(2)" not in html


def test_feed_links_local_event_urls(client, team_a):
    events.publish("host.up", team_a["team"], summary="came back", url="/hosts/1/")
    html = logged_in(client, team_a["viewer"]).get("/activity/").content.decode()
    assert '<a href="/hosts/1/">came back</a>' in html


def test_feed_filters_by_kind_prefix_severity_and_host(client, team_a):
    team = team_a["team"]
    host = DockerHost.objects.create(team=team, name="h1", url="tcp://127.0.0.1:1")
    events.publish("host.down", team, severity="error", host=host, summary="E-host-down")
    events.publish("host.up", team, severity="info", host=host, summary="E-host-up")
    events.publish("container.died", team, severity="warning", summary="E-container")
    client = logged_in(client, team_a["viewer"])

    def shown(query):
        html = client.get("/activity/", query).content.decode()
        return {s for s in ("E-host-down", "E-host-up", "E-container") if s in html}

    assert shown({}) == {"E-host-down", "E-host-up", "E-container"}
    assert shown({"kind": "host."}) == {"E-host-down", "E-host-up"}
    assert shown({"severity": "error"}) == {"E-host-down"}
    assert shown({"host": host.pk}) == {"E-host-down", "E-host-up"}
    assert shown({"kind": "container", "severity": "info"}) == set()


def test_feed_bad_filter_input_shows_field_errors(client, team_a):
    resp = logged_in(client, team_a["viewer"]).get("/activity/", {"severity": "apocalyptic", "host": "abc"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert html.count('class="field-error"') == 2
    assert "Select a valid choice" in html


def test_feed_partial_keeps_filters_for_live_refresh(client, team_a):
    events.publish("host.up", team_a["team"], summary="x")
    resp = logged_in(client, team_a["viewer"]).get("/activity/", {"kind": "host."}, HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert html.lstrip().startswith('<section id="activity-feed"')
    assert 'hx-get="/activity/?kind=host."' in html


def test_feed_shows_only_the_current_team(client, two_teams):
    events.publish("host.up", two_teams["b"]["team"], summary="B only")
    assert "B only" not in logged_in(client, two_teams["a"]["admin"]).get("/activity/").content.decode()


def test_operations_list_and_detail(client, team_a, two_teams):
    op = Operation.objects.create(team=team_a["team"], kind="host.sync", target_name="<i>h</i>", log="line 1\n<b>x</b>\n", progress=0.5, status="running")
    other = Operation.objects.create(team=two_teams["b"]["team"], kind="host.sync", target_name="b-op")
    client = logged_in(client, team_a["viewer"])
    html = client.get("/activity/operations/").content.decode()
    assert f'href="/activity/operations/{op.pk}/"' in html and "b-op" not in html
    html = client.get(f"/activity/operations/{op.pk}/").content.decode()
    assert f'data-op-stream="/ws/operations/{op.pk}/"' in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "&lt;i&gt;h&lt;/i&gt;" in html
    assert 'value="0.500000"' in html and "50%" in html
    assert "Cancel" not in html  # a viewer may not cancel
    assert client.get(f"/activity/operations/{other.pk}/").status_code == 404


def test_cancel_button_for_operators_only(client, team_a):
    op = Operation.objects.create(team=team_a["team"], kind="host.sync", status="running")
    html = logged_in(client, team_a["operator"]).get(f"/activity/operations/{op.pk}/").content.decode()
    assert f'action="/activity/operations/{op.pk}/cancel/"' in html
    done = Operation.objects.create(team=team_a["team"], kind="host.sync", status="succeeded")
    html = client.get(f"/activity/operations/{done.pk}/").content.decode()
    assert "/cancel/" not in html


def test_cancel_view_roles(client, two_teams):
    a = two_teams["a"]
    op = Operation.objects.create(team=a["team"], kind="host.sync", status="running")
    other = Operation.objects.create(team=two_teams["b"]["team"], kind="host.sync", status="running")
    url = f"/activity/operations/{op.pk}/cancel/"
    assert logged_in(client, a["viewer"]).post(url).status_code == 403
    op.refresh_from_db()
    assert not op.cancel_requested
    assert client.get(url).status_code == 405
    client = logged_in(client, a["operator"])
    assert client.post(f"/activity/operations/{other.pk}/cancel/").status_code == 404
    resp = client.post(url, follow=True)
    op.refresh_from_db()
    assert op.cancel_requested
    assert "Cancellation of operation" in resp.content.decode()


def test_cancel_pending_operation_cancels_at_once(client, team_a):
    op = Operation.objects.create(team=team_a["team"], kind="host.sync")
    logged_in(client, team_a["admin"]).post(f"/activity/operations/{op.pk}/cancel/")
    op.refresh_from_db()
    assert op.status == Operation.Status.CANCELLED


def test_event_list_counts_only_visible(client, team_a):
    # A smoke check of the store the pages read: publish stores one row per event.
    events.publish("host.up", team_a["team"], summary="one")
    assert Event.objects.filter(team=team_a["team"]).count() == 1


def test_ago_filter():
    from datetime import timedelta

    from django.utils import timezone

    from apps.web.templatetags.web_extras import ago, local_url

    assert ago(None) == "never"
    assert ago(timezone.now()) == "just now"
    assert ago(timezone.now() - timedelta(minutes=5)) == "5\xa0minutes ago"
    assert local_url("/hosts/1/") == "/hosts/1/"
    assert [local_url(u) for u in ("//evil.example/", "https://evil.example/", "javascript:x", "/\\evil")] == [""] * 4
