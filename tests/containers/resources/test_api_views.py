"""API, pages, admin and live stream of the resource actions: 202 + Operation, field errors,
viewer 403 on every action, other team 404, registry credentials write-only."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from apps.activity.models import AuditEvent, Operation
from apps.containers.models import Image, Network, RegistryCredential, Volume
from apps.hosts.models import DockerHost
from tests.conftest import api_client_for
from tests.helpers import RUN_ID, require_service, worker_id

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rows(team_a, two_teams):
    """A host per team (an unreachable address: nothing here reaches an engine) with one
    image, volume and network each."""
    out = {}
    for key in ("a", "b"):
        team = two_teams[key]["team"]
        host = DockerHost.objects.create(team=team, name=f"h-{key}", url="tcp://127.0.0.1:1")
        out[key] = {
            "host": host,
            "image": Image.objects.create(team=team, host=host, docker_id=f"sha256:{key * 64}", repo_tags=["demo/app:1"]),
            "volume": Volume.objects.create(team=team, host=host, name=f"vol-{key}"),
            "network": Network.objects.create(team=team, host=host, docker_id=key * 64, name=f"net-{key}"),
            "bridge": Network.objects.create(team=team, host=host, docker_id=key * 63 + "f", name="bridge"),
        }
    return out


def actions(r):
    """(method, url, body) for every change the API offers on images, volumes and networks."""
    host, image, volume, network = r["host"].pk, r["image"].pk, r["volume"].pk, r["network"].pk
    return [
        ("post", "/api/v1/images/pull/", {"host": host, "reference": "demo/app:1"}),
        ("post", "/api/v1/images/build/", {"host": host, "dockerfile_text": "FROM scratch\n"}),
        ("post", "/api/v1/images/prune/", {"host": host}),
        ("post", f"/api/v1/images/{image}/tag/", {"repository": "demo/other", "tag": "2"}),
        ("post", f"/api/v1/images/{image}/remove/", {"force": True}),
        ("post", "/api/v1/volumes/", {"host": host, "name": "newvol"}),
        ("post", f"/api/v1/volumes/{volume}/remove/", {}),
        ("post", "/api/v1/volumes/prune/", {"host": host}),
        ("post", "/api/v1/networks/", {"host": host, "name": "newnet"}),
        ("post", f"/api/v1/networks/{network}/connect/", {"container": "x"}),
        ("post", f"/api/v1/networks/{network}/disconnect/", {"container": "x"}),
        ("post", f"/api/v1/networks/{network}/remove/", {}),
        ("post", "/api/v1/networks/prune/", {"host": host}),
    ]


def test_viewer_gets_403_on_every_action_and_nothing_starts(rows, two_teams):
    client = api_client_for(two_teams["a"]["viewer"])
    for method, url, body in actions(rows["a"]):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (url, response.status_code, response.content)
    assert not Operation.objects.exists()


def test_other_teams_objects_answer_404(rows, two_teams):
    client = api_client_for(two_teams["a"]["admin"])
    for method, url, body in actions(rows["b"]):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (url, response.status_code, response.content)
    assert client.get(f"/api/v1/volumes/{rows['b']['volume'].pk}/browse/").status_code == 404
    assert client.get(f"/api/v1/images/{rows['b']['image'].pk}/history/").status_code == 404
    assert not Operation.objects.exists()


def test_operator_actions_answer_202_with_an_operation_and_are_audited(rows, two_teams, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from dockerforge.celery import app

    app.conf.task_always_eager = False  # queue, don't run: the host is unreachable on purpose
    try:
        client = api_client_for(two_teams["a"]["operator"])
        skip = {"connect", "disconnect"}  # need a container row (tested with a real engine elsewhere)
        for method, url, body in actions(rows["a"]):
            if url.rstrip("/").rsplit("/", 1)[-1] in skip:
                continue
            response = getattr(client, method)(url, body, format="json")
            assert response.status_code == 202, (url, response.content)
            op = Operation.objects.get(pk=response.json()["operation"])
            assert op.team_id == rows["a"]["host"].team_id and op.created_by == two_teams["a"]["operator"]
            assert response["Location"].endswith(f"/api/v1/operations/{op.pk}/")
        assert AuditEvent.objects.filter(name="image.pull", actor=two_teams["a"]["operator"]).exists()
    finally:
        app.conf.task_always_eager = True


@pytest.mark.parametrize(("url_key", "body", "field"), [
    ("pull", {"reference": "NOT valid//"}, "reference"),
    ("pull", {"reference": "127.0.0.1:1/x@sha256:short"}, "reference"),
    ("build", {"tag": "Bad Tag"}, "tag"),
    ("network", {"name": "bridge"}, "name"),
    ("network", {"name": "n1", "subnet": "not-a-cidr"}, "subnet"),
    ("volume", {"name": "bad name"}, "name"),
])
def test_bad_input_gives_field_errors(rows, two_teams, url_key, body, field):
    urls = {"pull": "/api/v1/images/pull/", "build": "/api/v1/images/build/", "network": "/api/v1/networks/", "volume": "/api/v1/volumes/"}
    body = {"host": rows["a"]["host"].pk, **({"dockerfile_text": "FROM scratch\n"} if url_key == "build" else {}), **body}
    response = api_client_for(two_teams["a"]["operator"]).post(urls[url_key], body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]


def test_removing_a_builtin_network_is_a_clear_400(rows, two_teams):
    response = api_client_for(two_teams["a"]["operator"]).post(f"/api/v1/networks/{rows['a']['bridge'].pk}/remove/", {}, format="json")
    assert response.status_code == 400
    assert "built-in" in response.json()["error"]["message"]


def test_in_request_reads_report_engine_errors_as_502(rows, two_teams):
    client = api_client_for(two_teams["a"]["viewer"])
    response = client.get(f"/api/v1/images/{rows['a']['image'].pk}/history/")
    assert response.status_code == 502 and "127.0.0.1:1" in response.json()["error"]["message"]


# --- registry credentials ---------------------------------------------------------------------

def test_registry_credentials_api_is_admin_only_and_password_write_only(two_teams):
    admin, viewer = two_teams["a"]["admin"], two_teams["a"]["viewer"]
    team = two_teams["a"]["team"].pk
    body = {"team": team, "registry": "https://127.0.0.1:5999/", "username": "u", "password": "s3cret-pw"}
    assert api_client_for(viewer).post("/api/v1/registries/", body, format="json").status_code == 403
    assert api_client_for(two_teams["a"]["operator"]).post("/api/v1/registries/", body, format="json").status_code == 403

    response = api_client_for(admin).post("/api/v1/registries/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["registry"] == "127.0.0.1:5999" and "password" not in data and data["has_password"]
    cred = RegistryCredential.objects.get(pk=data["id"])
    assert cred.password == "s3cret-pw"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM containers_registrycredential WHERE id = %s", [cred.pk])
        assert "s3cret-pw" not in cursor.fetchone()[0], "stored encrypted"
    listed = api_client_for(viewer).get("/api/v1/registries/").json()
    assert "s3cret-pw" not in str(listed) and listed["results"][0]["username"] == "u"
    assert api_client_for(viewer).patch(f"/api/v1/registries/{cred.pk}/", {"username": "x"}, format="json").status_code == 403
    assert api_client_for(two_teams["b"]["admin"]).get(f"/api/v1/registries/{cred.pk}/").status_code == 404
    # Updating without a password keeps it.
    assert api_client_for(admin).patch(f"/api/v1/registries/{cred.pk}/", {"username": "v"}, format="json").status_code == 200
    cred.refresh_from_db()
    assert (cred.username, cred.password) == ("v", "s3cret-pw")
    audit = AuditEvent.objects.filter(object_type="containers.registrycredential").first()
    assert audit is not None and "s3cret-pw" not in str(audit.after)


@pytest.mark.parametrize(("registry", "message"), [("", "blank"), ("a/b", "path"), ("host:99999", "port"), ("exa mple", "valid")])
def test_registry_address_errors(two_teams, registry, message):
    body = {"team": two_teams["a"]["team"].pk, "registry": registry, "username": "u", "password": "p"}
    response = api_client_for(two_teams["a"]["admin"]).post("/api/v1/registries/", body, format="json")
    assert response.status_code == 400
    assert message in str(response.json()["error"]["details"]["registry"]).lower()


def test_registry_address_is_checked_against_the_outbound_policy(two_teams, settings):
    settings.OUTBOUND_ALLOW = []  # the installation default: loopback denied
    body = {"team": two_teams["a"]["team"].pk, "registry": "127.0.0.1:5000", "username": "u", "password": "p"}
    response = api_client_for(two_teams["a"]["admin"]).post("/api/v1/registries/", body, format="json")
    assert response.status_code == 400 and "loopback" in str(response.json())


# --- pages ------------------------------------------------------------------------------------

def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_forbid_viewers_and_hide_other_teams(rows, two_teams):
    viewer = page_client(two_teams["a"]["viewer"])
    r = rows["a"]
    for url in [reverse("containers:image_pull"), reverse("containers:image_build"), reverse("containers:volume_create"),
                reverse("containers:network_create"), reverse("containers:registry_create")]:
        assert viewer.get(url).status_code == 403, url
        assert viewer.post(url, {"host": r["host"].pk}).status_code == 403, url
    for name, obj in [("image_tag", r["image"]), ("image_remove", r["image"]), ("volume_remove", r["volume"]),
                      ("network_remove", r["network"]), ("network_connect", r["network"])]:
        assert viewer.post(reverse(f"containers:{name}", args=[obj.pk])).status_code == 403, name
    admin = page_client(two_teams["a"]["admin"])
    b = rows["b"]
    for name, obj in [("image_tag", b["image"]), ("volume_browse", b["volume"]), ("network_remove", b["network"])]:
        method = admin.get if name == "volume_browse" else admin.post
        assert method(reverse(f"containers:{name}", args=[obj.pk])).status_code == 404, name
    assert not Operation.objects.exists()


def test_pull_form_field_error_then_live_progress_panel(rows, two_teams):
    client = page_client(two_teams["a"]["operator"])
    response = client.post(reverse("containers:image_pull"), {"host": rows["a"]["host"].pk, "reference": "<b>BAD</b>"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Not a valid image reference" in body and "<b>BAD</b>" not in body
    response = client.post(reverse("containers:image_pull"), {"host": rows["a"]["host"].pk, "reference": "demo/app:1"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    op = Operation.objects.get(kind="image.pull")
    assert f'data-op-stream="/ws/operations/{op.pk}/"' in page and "image.pull" in page


def test_detail_pages_show_action_panels_by_role(rows, two_teams):
    r = rows["a"]
    operator, viewer = page_client(two_teams["a"]["operator"]), page_client(two_teams["a"]["viewer"])
    image_url = reverse("containers:image_detail", args=[r["image"].pk])
    assert "Remove image" in operator.get(image_url).content.decode()
    assert "Remove image" not in viewer.get(image_url).content.decode()
    bridge_page = operator.get(reverse("containers:network_detail", args=[r["bridge"].pk])).content.decode()
    assert "built-in network" in bridge_page and "Remove network" not in bridge_page
    assert "Browse files" in viewer.get(reverse("containers:volume_detail", args=[r["volume"].pk])).content.decode()


def test_registry_pages_crud_with_field_errors(two_teams):
    admin = page_client(two_teams["a"]["admin"])
    response = admin.post(reverse("containers:registry_create"), {"registry": "bad/path", "username": "u", "password": "p"})
    assert response.status_code == 400 and "without a path" in response.content.decode()
    response = admin.post(reverse("containers:registry_create"), {"registry": "127.0.0.1:5001", "username": "u", "password": "pw-x"})
    assert response.status_code == 302
    cred = RegistryCredential.objects.get(registry="127.0.0.1:5001")
    edit = admin.get(reverse("containers:registry_edit", args=[cred.pk])).content.decode()
    assert "pw-x" not in edit and "A password is stored" in edit
    assert page_client(two_teams["a"]["viewer"]).get(reverse("containers:registry_list")).status_code == 200
    assert page_client(two_teams["b"]["admin"]).get(reverse("containers:registry_edit", args=[cred.pk])).status_code == 404
    admin.post(reverse("containers:registry_delete", args=[cred.pk]))
    assert not RegistryCredential.objects.filter(pk=cred.pk).exists()


def test_admin_action_runs_the_same_service_and_checks_roles(rows, two_teams, settings):
    from dockerforge.celery import app

    viewer = two_teams["a"]["viewer"]
    viewer.is_staff = True
    viewer.save()
    client = page_client(viewer)
    url = reverse("admin:containers_volume_changelist")
    response = client.post(url, {"action": "remove_volumes", "_selected_action": [rows["a"]["volume"].pk]}, follow=True)
    assert response.status_code == 200 and "does not allow" in response.content.decode()
    assert not Operation.objects.exists()
    operator = two_teams["a"]["operator"]
    operator.is_staff = True
    operator.save()
    app.conf.task_always_eager = False
    try:
        page_client(operator).post(url, {"action": "remove_volumes", "_selected_action": [rows["a"]["volume"].pk]})
    finally:
        app.conf.task_always_eager = True
    assert Operation.objects.filter(kind="volume.remove", created_by=operator).count() == 1


# --- the pull's live stream -----------------------------------------------------------------------

@pytest.fixture
def redis_layer(settings):
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        require_service("Redis on 127.0.0.1:6379", False, str(exc))
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [url], "prefix": f"dockerforge-test-{RUN_ID}-{worker_id()}-res:asgi"}}}
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.mark.docker
def test_pull_progress_streams_to_the_browser_socket(redis_layer, local_host, team_a, registry, pushed_image):
    from dockerforge.asgi import application
    from tests.helpers import in_other_thread

    from .conftest import remove_image_quietly

    RegistryCredential.objects.create(team=team_a["team"], registry=registry.address, username=registry.username, password=registry.password)
    remove_image_quietly(pushed_image)
    op = Operation.objects.create(team=local_host.team, kind="image.pull", params={"host": local_host.pk, "reference": pushed_image},
                                  created_by=team_a["operator"])
    client = Client()
    client.force_login(team_a["viewer"])
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    headers = [(b"cookie", cookie.encode()), (b"origin", b"http://127.0.0.1:8000")]

    async def scenario():
        sock = WebsocketCommunicator(application, f"/ws/operations/{op.pk}/", headers=headers)
        connected, _ = await sock.connect(timeout=5)
        assert connected
        from asgiref.sync import sync_to_async

        from apps.containers.tasks_resources import long_operation

        await sync_to_async(in_other_thread)(lambda: long_operation.apply(args=[op.pk]), 60)
        received = []
        while True:
            message = await sock.receive_json_from(timeout=10)
            received.append(message)
            if message.get("type") == "status":
                break
        await sock.disconnect()
        return received

    try:
        received = async_to_sync(scenario)()
    finally:
        remove_image_quietly(pushed_image)
    kinds = {m["type"] for m in received}
    assert {"log", "progress", "status"} <= kinds
    assert received[-1]["status"] == "succeeded"
    assert any(m["type"] == "progress" and m["progress"] == 1.0 for m in received)
    assert any(m["type"] == "log" and "Pull complete" in m["line"] for m in received)
