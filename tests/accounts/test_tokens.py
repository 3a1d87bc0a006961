"""API tokens: shown once, stored hashed, revocable, last-used time, expiry."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import tokens as token_lookup
from apps.accounts.models import ApiToken, hash_secret

pytestmark = pytest.mark.django_db


def test_ui_token_is_shown_once_and_stored_hashed(client, make_user):
    user = make_user(username="alice")
    client.force_login(user)
    resp = client.post("/accounts/profile/tokens/", {"name": "laptop", "expires_in": "30"})
    assert resp.status_code == 200
    assert "no-store" in resp["Cache-Control"]
    html = resp.content.decode()
    assert 'class="secret-once"' in html
    token = ApiToken.objects.get(user=user, name="laptop")
    raw = html.split('<code id="token-key">')[1].split("</code>")[0]
    assert raw.startswith("dfk_") and token.key_hash == hash_secret(raw)
    assert raw not in (token.key_hash, token.key_prefix) and raw.startswith(token.key_prefix)
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    # The profile lists it by prefix, never with the key again.
    profile = client.get("/accounts/profile/").content.decode()
    assert token.key_prefix in profile and raw not in profile and "secret-once" not in profile
    # And it works against the API.
    assert client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200


def test_ui_token_form_errors(client, make_user):
    user = make_user(username="bob")
    client.force_login(user)
    ApiToken.issue(user, "ci")
    resp = client.post("/accounts/profile/tokens/", {"name": "ci"})
    assert resp.status_code == 200 and "already have a token with this name" in resp.content.decode()
    resp = client.post("/accounts/profile/tokens/", {"name": "n" * 100_000, "expires_in": "x" * 100_000})
    assert resp.status_code == 200 and "errorlist" in resp.content.decode()
    assert client.post("/accounts/profile/tokens/", {}).status_code == 200
    assert ApiToken.objects.filter(user=user).count() == 1


def test_ui_revoke_and_revoked_token_refused(client, make_user):
    user = make_user(username="carol")
    token, raw = ApiToken.issue(user, "script")
    client.force_login(user)
    assert client.post(f"/accounts/profile/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    client.logout()
    resp = client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}")
    assert resp.status_code == 401


def test_cannot_revoke_another_users_token(client, make_user):
    owner, other = make_user(username="dora"), make_user(username="eve")
    token, _ = ApiToken.issue(owner, "mine")
    client.force_login(other)
    assert client.post(f"/accounts/profile/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_last_used_updates_at_most_once_per_resolution(client, make_user):
    user = make_user(username="fay")
    token, raw = ApiToken.issue(user, "cli")
    assert token.last_used_at is None
    client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}")
    token.refresh_from_db()
    assert token.last_used_at == first  # within the resolution: no write
    stale = timezone.now() - timedelta(seconds=token_lookup.LAST_USED_RESOLUTION_SECONDS + 5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}")
    token.refresh_from_db()
    assert token.last_used_at > stale


def test_expired_token_refused(client, make_user):
    user = make_user(username="gus")
    token, raw = ApiToken.issue(user, "old", expires_at=timezone.now() + timedelta(hours=1))
    assert client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401


def test_inactive_users_token_refused(client, make_user):
    user = make_user(username="hal")
    _, raw = ApiToken.issue(user, "t")
    user.is_active = False
    user.save()
    assert client.get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401


def test_api_create_list_revoke(make_user, api_client):
    user = make_user(username="ida")
    client = api_client(user)
    resp = client.post("/api/v1/tokens/", {"name": "deploy"}, format="json")
    assert resp.status_code == 201
    raw = resp.json()["token"]
    token = ApiToken.objects.get(pk=resp.json()["id"])
    assert token.key_hash == hash_secret(raw)
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert {t["name"] for t in listed} == {"deploy", token.user.api_tokens.exclude(pk=token.pk).get().name}
    assert all("token" not in t and "key_hash" not in t for t in listed)
    assert client.get(f"/api/v1/tokens/{token.pk}/").json()["key_prefix"] == raw[:10]
    assert client.post(f"/api/v1/tokens/{token.pk}/revoke/").json()["revoked_at"]
    # (a fresh client: APIClient's own credentials would win over the header)
    assert APIClient().get("/api/v1/teams/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401
    second = client.post("/api/v1/tokens/", {"name": "other"}, format="json").json()
    assert client.delete(f"/api/v1/tokens/{second['id']}/").status_code == 204
    assert ApiToken.objects.get(pk=second["id"]).revoked_at is not None


def test_api_token_validation(make_user, api_client):
    user = make_user(username="jon")
    client = api_client(user)
    resp = client.post("/api/v1/tokens/", {"name": "x", "expires_at": (timezone.now() - timedelta(days=1)).isoformat()}, format="json")
    assert resp.status_code == 400 and "expires_at" in resp.json()["error"]["details"]
    resp = client.post("/api/v1/tokens/", {"name": "y" * 100_000}, format="json")
    assert resp.status_code == 400 and "name" in resp.json()["error"]["details"]
    resp = client.post("/api/v1/tokens/", {}, format="json")
    assert resp.status_code == 400 and "name" in resp.json()["error"]["details"]
    client.post("/api/v1/tokens/", {"name": "dup"}, format="json")
    resp = client.post("/api/v1/tokens/", {"name": "dup"}, format="json")
    assert resp.status_code == 400 and "name" in resp.json()["error"]["details"]


def test_api_other_users_tokens_are_invisible(make_user, api_client):
    a, b = make_user(username="kim"), make_user(username="lee")
    token, _ = ApiToken.issue(b, "b-token")
    client = api_client(a)
    assert client.get(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert client.post(f"/api/v1/tokens/{token.pk}/revoke/").status_code == 404
    assert all(t["name"] != "b-token" for t in client.get("/api/v1/tokens/").json()["results"])


def test_htmx_revoke_returns_the_tokens_partial(client, make_user):
    user = make_user(username="max")
    token, _ = ApiToken.issue(user, "tmp")
    client.force_login(user)
    resp = client.post(f"/accounts/profile/tokens/{token.pk}/revoke/", HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert resp.status_code == 200 and html.lstrip().startswith('<div id="tokens"') and "revoked" in html
