"""`manage.py bootstrap_admin` (run by `make run`): first run creates admin + Default team."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from apps.accounts.models import Membership, Team
from apps.core.roles import Role

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("bootstrap_admin", stdout=out)
    return out.getvalue()


def test_first_run_with_password_from_env(monkeypatch):
    monkeypatch.setenv("DOCKERFORGE_ADMIN_PASSWORD", "Env-Pass-123")
    out = run()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("Env-Pass-123")
    assert "Env-Pass-123" not in out  # a password the operator chose is not echoed
    team = Team.objects.get(name="Default")
    assert Membership.objects.get(team=team, user=admin).role == Role.ADMIN


def test_generated_password_printed_once_and_idempotent(monkeypatch):
    monkeypatch.delenv("DOCKERFORGE_ADMIN_PASSWORD", raising=False)
    out = run()
    password = re.search(r"Password:\s+(\S+)", out).group(1)
    assert get_user_model().objects.get(username="admin").check_password(password)
    again = run()
    assert "already exists" in again and password not in again
    assert get_user_model().objects.count() == 1 and Team.objects.count() == 1
    assert Membership.objects.count() == 1


def test_does_nothing_when_any_superuser_exists(superuser):
    out = run()
    assert "nothing to do" in out
    assert not get_user_model().objects.filter(username="admin").exists()
    assert not Team.objects.exists()


def test_refuses_an_ordinary_user_named_admin(make_user):
    make_user(username="admin")
    with pytest.raises(CommandError, match="not a superuser"):
        run()
    assert not get_user_model().objects.get(username="admin").is_superuser
