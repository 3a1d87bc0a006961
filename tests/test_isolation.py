"""The one generic isolation test: it walks every API route, every admin registration and
every WebSocket route, so a new app is checked as soon as its routes exist.

Two teams (A and B: a viewer, an operator and an admin each) and a superuser. For every
model, `tests/isolation/factories.py` makes one object per team. Across teams:
- the API answers 404 on detail routes (every method, every extra action) and lists never
  include the other team's rows; a role that may not act gets 403 before validation;
- the admin never shows the other team's object: changelist, search, filters, change /
  history / delete URLs, foreign-key choices, autocompletes, recent actions;
- a WebSocket for another team's object is closed before accept, with no data sent;
- the superuser sees both teams.
Every page or body a user of one team sees is searched for the other team's markers.
"""

import json
import re
import uuid
from dataclasses import dataclass, field

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.forms import ModelChoiceField
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.accounts.models import ApiToken
from apps.core.roles import ROLES_FOR_ACTION, Action, Role

from .conftest import ROLES, api_client_for
from .isolation.factories import FACTORIES, NON_OBJECT_ROUTES, WS_ROUTE_ACTIONS, WS_ROUTES
from .isolation.walk import admin_labels, api_routes, autocomplete_source, model_admin_for, websocket_routes

pytestmark = pytest.mark.django_db
OTHER = {"a": "b", "b": "a"}
ORIGIN = b"http://127.0.0.1"


# --- the world: two teams, their staff, one object of every model per team ---------------

@dataclass
class World:
    teams: dict
    superuser: object
    objects: dict = field(default_factory=dict)  # label -> {"a": obj, "b": obj}
    _api: dict = field(default_factory=dict)

    def team(self, key):
        return self.teams[key]["team"]

    def user(self, key, role):
        return self.teams[key][role]

    def obj(self, label, key):
        if label not in self.objects:
            factory = factory_for(label)
            self.objects[label] = {k: factory.make(self.team(k)) for k in ("a", "b")}
        return self.objects[label][key]

    def make_all(self):
        for label in FACTORIES:
            try:
                self.obj(label, "a")
            except LookupError:
                continue  # a model of an app that is not installed

    def markers(self, key) -> list[str]:
        """Strings that only a member of team `key` (or a superuser) may ever see."""
        found = [self.team(key).name]
        for label, per_team in self.objects.items():
            if FACTORIES[label].scope != "installation":
                found.append(str(per_team[key]))
        return found

    def api(self, user):
        if user.pk not in self._api:
            self._api[user.pk] = api_client_for(user)
        return self._api[user.pk]


def factory_for(label):
    if label not in FACTORIES:
        pytest.fail(
            f"No isolation factory for model {label!r}: add one to tests/isolation/factories.py "
            "(a function(team) creating one instance, with the team's marker in its str()).",
            pytrace=False,
        )
    return FACTORIES[label]


@pytest.fixture
def world(two_teams, superuser):
    for key, members in two_teams.items():
        team = members["team"]
        team.name = f"isoteam{key}{uuid.uuid4().hex[:8]}"
        team.save()
        for role in ROLES:
            members[role].is_staff = True
            members[role].save()
    superuser.is_staff = True
    superuser.save()
    w = World(two_teams, superuser)
    w.make_all()
    return w


def assert_hidden(body: bytes | str, markers, where: str):
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    leaked = [m for m in markers if m in text]
    assert not leaked, f"{where} shows another team's objects: {leaked}"


# --- registries are complete ----------------------------------------------------------

def test_every_project_model_has_a_factory():
    from django.apps import apps

    missing = [
        m._meta.label_lower
        for m in apps.get_models()
        if m.__module__.startswith("apps.") and m._meta.label_lower not in FACTORIES
    ]
    assert not missing, f"add isolation factories (tests/isolation/factories.py) for: {missing}"


def test_every_api_route_is_a_known_kind():
    unknown = [r.name for r in api_routes() if r.view is None and r.name not in NON_OBJECT_ROUTES]
    assert not unknown, (
        f"API routes that are not team-scoped viewsets: {unknown}. Make them viewsets over a model, "
        "or list them with a reason in NON_OBJECT_ROUTES (tests/isolation/factories.py)."
    )
    no_model = [r.name for r in api_routes() if r.view is not None and r.model is None]
    assert not no_model, f"viewsets without a `queryset` (the test cannot find their model): {no_model}"


def test_every_websocket_route_is_known():
    unknown = [p.name or str(p.pattern) for p in websocket_routes() if p.name not in WS_ROUTES]
    assert not unknown, f"WebSocket routes missing from WS_ROUTES (tests/isolation/factories.py): {unknown}"


# --- the API ------------------------------------------------------------------------

OBJECT_ROUTES = [r for r in api_routes() if r.view is not None and r.model is not None]


def _detail_url(route, obj) -> str:
    view = route.view
    kwarg = view.lookup_url_kwarg or view.lookup_field
    return reverse(f"api:{route.name}", kwargs={kwarg: getattr(obj, view.lookup_field)})


def _ids(response) -> set:
    data = response.json()
    rows = data.get("results", data) if isinstance(data, dict) else data
    return {row.get("id") for row in rows if isinstance(row, dict)} if isinstance(rows, list) else set()


def _call(client, method: str, url: str, body=None):
    return client.generic(method.upper(), url, json.dumps(body if body is not None else {}), "application/json")


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
def test_api_route_isolation(route, world):
    label = route.model._meta.label_lower
    scope = factory_for(label).scope
    for key in ("a", "b"):
        mine, theirs = world.obj(label, key), world.obj(label, OTHER[key])
        for role in ROLES:
            user = world.user(key, role)
            client = world.api(user)
            where = f"{route.name} as {key}_{role}"
            if route.detail:
                _check_detail_route(route, client, user, mine, theirs, scope, world, key, where)
            else:
                _check_list_route(route, client, user, mine, theirs, scope, world, key, where)
    _check_superuser_api(route, world, label, scope)
    for key in ("a", "b"):  # nothing was deleted or moved by the other team's requests
        obj = world.obj(label, key)
        assert type(obj)._default_manager.filter(pk=obj.pk).exists(), f"{route.name}: {label} of team {key} vanished"


def _check_detail_route(route, client, user, mine, theirs, scope, world, key, where):
    for method, action_name in route.actions:
        resp = _call(client, method, _detail_url(route, theirs))
        assert resp.status_code == 404, f"{where}: {method.upper()} another team's object answered {resp.status_code}"
        assert_hidden(resp.content, world.markers(OTHER[key]), where)
        if scope != "team" or method in ("get", "head", "options"):
            continue
        required = route.required_action(action_name)
        if user.is_superuser or user.memberships.filter(team=world.team(key), role__in=ROLES_FOR_ACTION[required]).exists():
            continue  # allowed: not exercised here (it would change the object)
        resp = _call(client, method, _detail_url(route, mine))
        assert resp.status_code == 403, f"{where}: {method.upper()} without the role answered {resp.status_code}, not 403"


def _check_list_route(route, client, user, mine, theirs, scope, world, key, where):
    other_team = world.team(OTHER[key])
    for method, action_name in route.actions:
        url = reverse(f"api:{route.name}")
        if method == "get":
            for query in ("", f"?team={other_team.pk}"):
                resp = client.get(url + query)
                assert resp.status_code == 200, f"{where}: GET {url}{query} answered {resp.status_code}"
                if route.model is type(theirs):
                    assert theirs.pk not in _ids(resp), f"{where}: list includes another team's row"
                assert_hidden(resp.content, world.markers(OTHER[key]), f"{where} {query}")
            may_list = user.memberships.filter(team=world.team(key), role__in=ROLES_FOR_ACTION[route.required_action("list")]).exists()
            if scope == "team" and route.model is type(mine) and action_name == "list" and may_list:
                assert mine.pk in _ids(client.get(url)), f"{where}: list misses the user's own team's row"
            continue
        # A change at list level (create, or a collection action): another team's id -> 404
        # on team-scoped viewsets; personal ones (tokens) ignore `team` but must not leak.
        resp = _call(client, method, url, {"team": other_team.pk})
        if hasattr(route.view, "team_for_create"):
            assert resp.status_code in (403, 404), f"{where}: {method.upper()} into another team answered {resp.status_code}"
        assert resp.status_code < 500
        assert_hidden(resp.content, world.markers(OTHER[key]), where)
        required = route.required_action(action_name)
        if scope == "team" and not user.memberships.filter(team=world.team(key), role__in=ROLES_FOR_ACTION[required]).exists():
            resp = _call(client, method, url, {"team": world.team(key).pk})
            assert resp.status_code == 403, f"{where}: {method.upper()} without the role answered {resp.status_code}, not 403"


def _check_superuser_api(route, world, label, scope):
    if scope != "team":
        return
    client = world.api(world.superuser)
    if route.detail:
        if ("get", "retrieve") in route.actions:
            for key in ("a", "b"):
                resp = client.get(_detail_url(route, world.obj(label, key)))
                assert resp.status_code == 200, f"{route.name}: the superuser cannot read team {key}'s object"
    elif ("get", "list") in route.actions:
        ids = _ids(client.get(reverse(f"api:{route.name}") + "?page_size=500"))
        assert {world.obj(label, "a").pk, world.obj(label, "b").pk} <= ids, f"{route.name}: the superuser misses a team"


def test_api_create_requires_role_before_validation(world):
    """A viewer's empty create is 403 (not 400) on every create route."""
    creates = [r for r in OBJECT_ROUTES if not r.detail and ("post", "create") in r.actions]
    assert creates, "expected at least one create route"
    for route in creates:
        if factory_for(route.model._meta.label_lower).scope != "team":
            continue
        viewer = world.user("a", Role.VIEWER)
        resp = _call(world.api(viewer), "post", reverse(f"api:{route.name}"), {"team": world.team("a").pk})
        assert resp.status_code == 403, f"{route.name}: a viewer's create answered {resp.status_code}"


# --- the admin ----------------------------------------------------------------------

def _admin_url(obj, view: str, *args) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _foreign_rows(world, model, key) -> set:
    """Pks of `model` rows that belong only to team `key` (its objects and its members)."""
    from django.contrib.auth import get_user_model

    pks = {per_team[key].pk for label, per_team in world.objects.items() if type(per_team[key]) is model}
    if model is get_user_model():
        pks |= {world.user(key, role).pk for role in ROLES}
    return pks


def _check_form_choices(model_admin, user, world, key, where, obj=None):
    """The admin form's foreign-key choices never offer the other team's rows."""
    request = _request(user)
    form = model_admin.get_form(request, obj)(instance=obj)
    for name, form_field in form.fields.items():
        if isinstance(form_field, ModelChoiceField):
            offered = set(form_field.queryset.values_list("pk", flat=True))
            leaked = offered & _foreign_rows(world, form_field.queryset.model, OTHER[key])
            assert not leaked, f"{where}: field {name!r} offers another team's rows {leaked}"


@pytest.mark.parametrize("label", admin_labels())
def test_admin_isolation(label, world):
    model_admin = model_admin_for(label)
    scope = factory_for(label).scope
    for key in ("a", "b"):
        mine, theirs = world.obj(label, key), world.obj(label, OTHER[key])
        hidden = world.markers(OTHER[key])
        for role in ROLES:
            user = world.user(key, role)
            client, where = _logged_in(user), f"admin {label} as {key}_{role}"
            _check_admin_pages(model_admin, client, user, mine, theirs, scope, hidden, where)
            _check_admin_changes(model_admin, client, user, mine, scope, where)
            if model_admin.has_add_permission(_request(user)):
                _check_form_choices(model_admin, user, world, key, where + " add form")
            if scope == "team" and model_admin.has_view_permission(_request(user), mine):
                _check_form_choices(model_admin, user, world, key, where + " change form", mine)
            _check_autocomplete(model_admin, client, theirs, hidden, where)
    _check_superuser_admin(model_admin, world, label)


def _check_admin_pages(model_admin, client, user, mine, theirs, scope, hidden, where):
    changelist = _admin_url(theirs, "changelist")
    resp = client.get(changelist)
    if scope == "installation":
        assert resp.status_code == 403, f"{where}: team staff reach installation data ({resp.status_code})"
    else:
        assert resp.status_code in (200, 403), f"{where}: changelist answered {resp.status_code}"
        assert_hidden(resp.content, hidden, where + " changelist")
        if scope == "team" and resp.status_code == 200:
            assert _admin_url(mine, "change", mine.pk).encode() in resp.content, f"{where}: own team's row missing"
        # Searching for the other team's object finds nothing (the box echoes the term itself).
        resp = client.get(changelist, {"q": str(theirs)})
        assert _admin_url(theirs, "change", theirs.pk).encode() not in resp.content, f"{where}: search finds it"
    for view in ("change", "history", "delete"):
        resp = client.get(_admin_url(theirs, view, theirs.pk))
        assert resp.status_code in (302, 403, 404), f"{where}: {view} of another team's object answered {resp.status_code}"
        if resp.status_code == 302:
            assert resp["Location"] == reverse("admin:index"), f"{where}: {view} redirected to {resp['Location']}"
        assert_hidden(resp.content, hidden, f"{where} {view}")
    resp = client.post(_admin_url(theirs, "change", theirs.pk), {})
    assert resp.status_code in (302, 403, 404), f"{where}: POST to another team's object answered {resp.status_code}"
    add = client.get(_admin_url(theirs, "add"))
    assert add.status_code in (200, 403), f"{where}: add form answered {add.status_code}"
    assert_hidden(add.content, hidden, where + " add form")
    assert_hidden(client.get(reverse("admin:index")).content, hidden, where + " index")


def _check_admin_changes(model_admin, client, user, mine, scope, where):
    """A role that may not act gets 403 on an empty POST, before any validation."""
    request = _request(user)
    if user.memberships.filter(role=Role.VIEWER).exists() and not user.memberships.exclude(role=Role.VIEWER).exists():
        assert not model_admin.has_add_permission(request), f"{where}: a viewer may add"
        assert not model_admin.has_change_permission(request, mine), f"{where}: a viewer may change"
    if not model_admin.has_add_permission(request):
        resp = client.post(_admin_url(mine, "add"), {})
        assert resp.status_code == 403, f"{where}: empty add without permission answered {resp.status_code}"
    if scope == "team" and not model_admin.has_change_permission(request, mine):
        resp = client.post(_admin_url(mine, "change", mine.pk), {})
        assert resp.status_code == 403, f"{where}: empty change without permission answered {resp.status_code}"


def _check_autocomplete(model_admin, client, theirs, hidden, where):
    if not model_admin.search_fields:
        return
    source = autocomplete_source(type(theirs))
    if source is None:
        return  # nothing points at this model: there is no autocomplete to ask
    source_model, source_field = source
    for term in ("", str(theirs)[:20]):
        resp = client.get(reverse("admin:autocomplete"), {
            "app_label": source_model._meta.app_label, "model_name": source_model._meta.model_name,
            "field_name": source_field.name, "term": term,
        })
        assert resp.status_code in (200, 403), f"{where}: autocomplete answered {resp.status_code}"
        if resp.status_code == 200:
            ids = {row["id"] for row in resp.json()["results"]}
            assert str(theirs.pk) not in ids, f"{where}: autocomplete offers another team's object"
        assert_hidden(resp.content, hidden, where + " autocomplete")


def _check_superuser_admin(model_admin, world, label):
    client = _logged_in(world.superuser)
    resp = client.get(_admin_url(world.obj(label, "a"), "changelist") + "?all=")
    assert resp.status_code == 200
    for key in ("a", "b"):
        obj = world.obj(label, key)
        assert _admin_url(obj, "change", obj.pk).encode() in resp.content, f"admin {label}: the superuser misses team {key}"
        assert client.get(_admin_url(obj, "change", obj.pk)).status_code == 200


def test_admin_recent_actions_stay_in_the_team(world):
    """Team B's admin changes a membership in the admin: audited with via="admin", and
    nothing of it shows on team A's admin index."""
    from apps.accounts.models import Membership
    from apps.activity.models import AuditEvent

    membership = Membership.objects.get(user=world.user("b", Role.VIEWER), team=world.team("b"))
    resp = _logged_in(world.user("b", Role.ADMIN)).post(_admin_url(membership, "change", membership.pk), {"role": Role.OPERATOR})
    assert resp.status_code == 302, resp.content[:2000]
    membership.refresh_from_db()
    assert membership.role == Role.OPERATOR
    audit = AuditEvent.objects.get(object_type="accounts.membership", object_id=str(membership.pk), action="update")
    assert (audit.via, audit.actor_id, audit.team_id) == ("admin", world.user("b", Role.ADMIN).pk, world.team("b").pk)
    assert audit.before["role"] == Role.VIEWER and audit.after["role"] == Role.OPERATOR
    b_index = _logged_in(world.user("b", Role.ADMIN)).get(reverse("admin:index")).content.decode()
    assert str(membership) in b_index  # the actor sees their own recent action...
    for role in ROLES:  # ...team A never does
        a_index = _logged_in(world.user("a", role)).get(reverse("admin:index")).content.decode()
        assert str(membership) not in a_index and world.team("b").name not in a_index


# --- WebSockets -----------------------------------------------------------------------

def _ws_path(pattern, obj, team_id=None) -> str:
    route = str(pattern.pattern)
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(obj.pk if m.group(1) == "pk" else getattr(obj, m.group(1))), route)
    return path + (f"?team={team_id}" if team_id is not None else "")


async def _ws_try(path: str, headers) -> tuple[bool, bool]:
    """(accepted, nothing was sent to the client)."""
    from dockerforge.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _code = await communicator.connect(timeout=5)
    if connected:
        await communicator.disconnect()
        return True, True
    return False, await communicator.receive_nothing(timeout=0.1)


def ws_try(path, headers):
    return async_to_sync(_ws_try)(path, headers)


def session_headers(user):
    client = _logged_in(user)
    return [(b"origin", ORIGIN), (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


def token_headers(user):
    _, raw = ApiToken.issue(user, f"ws-{uuid.uuid4().hex[:8]}")
    return [(b"authorization", f"Token {raw}".encode())]


def _ws_model_label(name):
    """The model a WebSocket route streams (None: the team channel)."""
    label = WS_ROUTES.get(name, "missing")
    if label == "missing":
        pytest.fail(f"WebSocket route {name!r} is missing from WS_ROUTES (tests/isolation/factories.py)", pytrace=False)
    return label


# Channels' database_sync_to_async closes connections around each call: the socket tests
# need committed data (transactional db), not the test's open transaction.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pattern", websocket_routes(), ids=lambda p: p.name or str(p.pattern))
def test_websocket_isolation(pattern, world):
    label = _ws_model_label(pattern.name)

    def path_for(key):
        if label is None:
            return _ws_path(pattern, world.team(key), team_id=world.team(key).pk)
        return _ws_path(pattern, world.obj(label, key))

    for key in ("a", "b"):
        for role in ROLES:
            user = world.user(key, role)
            for headers in (session_headers(user), token_headers(user)):
                accepted, silent = ws_try(path_for(OTHER[key]), headers)
                assert not accepted and silent, f"{pattern.name}: {key}_{role} reached another team's stream"
                accepted, silent = ws_try(path_for(key), headers)
                if role in ROLES_FOR_ACTION[WS_ROUTE_ACTIONS.get(pattern.name, Action.VIEW)]:
                    assert accepted, f"{pattern.name}: {key}_{role} was refused their own team's stream"
                else:
                    assert not accepted and silent, f"{pattern.name}: {key}_{role} got a stream its role may not open"
    for key in ("a", "b"):
        assert ws_try(path_for(key), session_headers(world.superuser))[0], f"{pattern.name}: superuser refused"


@pytest.mark.django_db(transaction=True)
def test_websocket_origin_rules(world):
    user = world.user("a", Role.VIEWER)
    cookie = session_headers(user)[1]
    # A bad Origin is refused before accept, even with a valid session.
    accepted, silent = ws_try("/ws/events/", [(b"origin", b"http://evil.example"), cookie])
    assert not accepted and silent
    # No Origin and no token: refused (a session cookie alone is not enough without Origin).
    assert ws_try("/ws/events/", [cookie]) == (False, True)
    assert ws_try("/ws/events/", []) == (False, True)
    # A bad token without Origin: refused.
    assert ws_try("/ws/events/", [(b"authorization", b"Token dfk_not-a-real-token")]) == (False, True)
    # No Origin with a valid token: accepted (the CLI).
    assert ws_try("/ws/events/", token_headers(user))[0] is True
    # An allowed Origin with a session: accepted (browsers).
    assert ws_try("/ws/events/", session_headers(user))[0] is True
    # An allowed Origin without a session: refused.
    assert ws_try("/ws/events/", [(b"origin", ORIGIN)]) == (False, True)


def test_the_walk_finds_the_known_routes():
    """Guards the discovery itself: if it found nothing, every test above would pass vacuously."""
    assert {"accounts.user", "accounts.team", "accounts.membership", "activity.operation"} <= set(admin_labels())
    names = {r.name for r in OBJECT_ROUTES}
    assert {"host-list", "host-detail", "operation-cancel", "membership-detail", "team-list"} <= names
    assert {p.name for p in websocket_routes()} >= {"ws-events", "ws-operation"}
