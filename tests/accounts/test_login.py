"""Log in, log out, the login rate limit (UI and API share it), password reset and change."""

import re
import time

import pytest
from django.core import mail
from django.urls import reverse

from apps.accounts.models import LoginAttempt

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"


def ui_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def api_login(client, username, password):
    return client.post(TOKEN, {"username": username, "password": password}, content_type="application/json")


def test_login_and_logout(client, make_user):
    make_user(username="alice")
    resp = ui_login(client, "alice", "pw-alice")
    assert resp.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200
    # Logout is POST only: a GET (a link, an <img>) logs nobody out.
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/accounts/profile/").status_code == 302


def test_ui_rate_limit_refuses_even_the_right_password_until_the_window_passes(client, make_user, settings):
    settings.LOGIN_RATE_LIMIT = 3
    settings.LOGIN_RATE_WINDOW = 1
    make_user(username="bob")
    for _ in range(3):
        resp = ui_login(client, "bob", "wrong")
        assert resp.status_code == 200 and "Please enter a correct username" in resp.content.decode()
    resp = ui_login(client, "bob", "pw-bob")
    assert resp.status_code == 200
    assert "Too many failed logins" in resp.content.decode()
    assert "_auth_user_id" not in client.session
    time.sleep(1.1)
    assert ui_login(client, "bob", "pw-bob").status_code == 302
    assert not LoginAttempt.objects.filter(username="bob").exists()  # success clears the count


def test_api_rate_limit_is_shared_with_the_ui(client, make_user, settings):
    settings.LOGIN_RATE_LIMIT = 3
    settings.LOGIN_RATE_WINDOW = 1
    make_user(username="carol")
    for _ in range(2):
        assert api_login(client, "carol", "wrong").status_code == 401
    ui_login(client, "carol", "wrong")  # the third failure, through the page
    resp = api_login(client, "carol", "pw-carol")
    assert resp.status_code == 429
    assert resp.json()["error"]["code"] == "throttled"
    time.sleep(1.1)
    assert api_login(client, "carol", "pw-carol").status_code == 201


def test_rate_limit_is_per_username(client, make_user, settings):
    settings.LOGIN_RATE_LIMIT = 2
    make_user(username="dave")
    make_user(username="erin")
    for _ in range(2):
        ui_login(client, "dave", "wrong")
    assert "Too many" in ui_login(client, "dave", "pw-dave").content.decode()
    assert ui_login(client, "erin", "pw-erin").status_code == 302


def test_password_reset_end_to_end(client, make_user):
    user = make_user(username="frank")
    resp = client.post(reverse("accounts:password_reset"), {"email": "frank@example.test"})
    assert resp.status_code == 302 and resp["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["frank@example.test"]
    assert "Reset your DockerForge password" in message.subject
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    resp = client.get(link)  # Django swaps the token for "set-password" in the session
    assert resp.status_code == 302
    form_url = resp["Location"]
    assert "New password" in client.get(form_url).content.decode()
    # Mismatched passwords: field errors, not a 500.
    resp = client.post(form_url, {"new_password1": "Sturdy-Pass-123", "new_password2": "other"})
    assert resp.status_code == 200 and "didn’t match" in resp.content.decode()
    resp = client.post(form_url, {"new_password1": "Sturdy-Pass-123", "new_password2": "Sturdy-Pass-123"})
    assert resp["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("Sturdy-Pass-123")
    # The link works once.
    assert "Link not valid" in client.get(link, follow=True).content.decode()
    assert ui_login(client, "frank", "Sturdy-Pass-123").status_code == 302


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client, make_user):
    make_user(username="gina")
    resp = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.test"})
    assert resp.status_code == 302  # no hint whether the address exists
    assert mail.outbox == []


def test_password_reset_bad_input(client):
    resp = client.post(reverse("accounts:password_reset"), {"email": "x" * 100_000})
    assert resp.status_code == 200
    assert "errorlist" in resp.content.decode()
    assert client.post(reverse("accounts:password_reset"), {}).status_code == 200


def test_password_change(client, make_user):
    user = make_user(username="hank")
    client.force_login(user)
    url = reverse("accounts:password_change")
    resp = client.post(url, {"old_password": "wrong", "new_password1": "Sturdy-Pass-123", "new_password2": "Sturdy-Pass-123"})
    assert resp.status_code == 200 and "incorrectly" in resp.content.decode()
    resp = client.post(url, {"old_password": "pw-hank", "new_password1": "Sturdy-Pass-123", "new_password2": "Sturdy-Pass-123"})
    assert resp.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Sturdy-Pass-123")
    assert client.get("/accounts/profile/").status_code == 200  # still logged in


def test_login_bad_input_is_a_form_error(client):
    resp = client.post(LOGIN, {"username": "u" * 100_000, "password": "p" * 100_000})
    assert resp.status_code == 200
    assert client.post(LOGIN, {}).status_code == 200
    resp = api_login(client, "u" * 100_000, "pw")
    assert resp.status_code == 400
    assert "username" in resp.json()["error"]["details"]
    resp = client.post(TOKEN, {}, content_type="application/json")
    assert set(resp.json()["error"]["details"]) == {"username", "password"}


def test_password_reset_requests_are_rate_limited_without_revealing_it(client, make_user, settings):
    make_user(username="flooded")  # e-mail: flooded@example.test
    settings.LOGIN_RATE_LIMIT = 3
    for _ in range(6):
        resp = client.post("/accounts/password/reset/", {"email": "flooded@example.test"})
        assert resp.status_code == 302 and resp.url.endswith("/accounts/password/reset/done/")
    assert len(mail.outbox) == 3
