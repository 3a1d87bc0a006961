"""First run of an installation: an `admin` superuser and a "Default" team (`make run`)."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.models import Membership, Team
from apps.accounts.services import unique_slug
from apps.core.roles import Role

USERNAME = "admin"
TEAM_NAME = "Default"
PASSWORD_ENV = "DOCKERFORGE_ADMIN_PASSWORD"


class Command(BaseCommand):
    help = (
        f"Create the superuser '{USERNAME}' and the team '{TEAM_NAME}' on first run. Does nothing when any "
        f"superuser exists. The password comes from {PASSWORD_ENV}, else one is generated and printed once."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser already exists; bootstrap_admin has nothing to do.")
            return
        if User.objects.filter(username=USERNAME).exists():
            raise CommandError(f"A user named '{USERNAME}' exists but is not a superuser; create a superuser with createsuperuser.")
        password = os.environ.get(PASSWORD_ENV, "")
        generated = not password
        password = password or secrets.token_urlsafe(18)
        with transaction.atomic():
            admin = User.objects.create_superuser(USERNAME, "", password)
            team = Team.objects.filter(name=TEAM_NAME).first() or Team.objects.create(name=TEAM_NAME, slug=unique_slug(TEAM_NAME))
            Membership.objects.get_or_create(team=team, user=admin, defaults={"role": Role.ADMIN})
        self.stdout.write(self.style.SUCCESS(f"Created superuser '{USERNAME}' and team '{TEAM_NAME}' (admin is its admin)."))
        if generated:
            # Printed this once only: the database keeps just the password's hash.
            line = "=" * 64
            self.stdout.write(
                f"{line}\n  Log in as: {USERNAME}\n  Password:  {password}\n"
                f"  Shown only now. Change it after logging in (Profile -> Change password).\n{line}"
            )
        else:
            self.stdout.write(f"Password taken from {PASSWORD_ENV}.")
