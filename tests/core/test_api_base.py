import pytest

from apps.accounts.models import ApiToken
from apps.hosts.models import DockerHost

pytestmark = pytest.mark.django_db


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    body = client.get("/readyz").json()
    assert body["checks"]["database"] == "ok"


def test_token_auth_and_team_scoping(two_teams, api_client):
    a, b = two_teams["a"], two_teams["b"]
    host_b = DockerHost.objects.create(team=b["team"], name="b-host", url="tcp://127.0.0.1:1")
    viewer_a = api_client(a["viewer"])
    assert viewer_a.get("/api/v1/hosts/").json()["count"] == 0
    assert viewer_a.get(f"/api/v1/hosts/{host_b.pk}/").status_code == 404
    # A viewer may not create: 403 before the body is validated (empty body).
    resp = viewer_a.post("/api/v1/hosts/", {"team": a["team"].pk}, format="json")
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "permission_denied"
    # Another team's id answers 404.
    resp = api_client(a["admin"]).post("/api/v1/hosts/", {"team": b["team"].pk}, format="json")
    assert resp.status_code == 404


def test_unauthenticated_and_bad_token(client):
    assert client.get("/api/v1/hosts/").status_code in (401, 403)
    resp = client.get("/api/v1/hosts/", HTTP_AUTHORIZATION="Token dfk_nope")
    assert resp.status_code == 401
    assert resp.json()["error"]["message"]


def test_token_endpoint_issues_hashed_token(make_user, client):
    user = make_user(username="alice")
    resp = client.post("/api/v1/auth/token/", {"username": "alice", "password": "pw-alice"}, content_type="application/json")
    assert resp.status_code == 201
    raw = resp.json()["token"]
    token = ApiToken.objects.get(user=user)
    assert raw.startswith("dfk_") and raw not in (token.key_hash, token.key_prefix)
    assert client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200
