from django.core.management.base import BaseCommand, CommandError

from apps.updates.upgrade import UpgradeFailed, upgrade
from apps.updates.version import current_version


class Command(BaseCommand):
    help = "Snapshot the database, apply migrations, run the health checks; restore the snapshot if a step fails."

    def add_arguments(self, parser):
        parser.add_argument("--snapshot-dir", default=None, help="Where the snapshot goes (default: DOCKERFORGE_UPGRADE_SNAPSHOT_DIR)")

    def handle(self, *args, snapshot_dir=None, **options):
        self.stdout.write(f"Upgrading DockerForge {current_version()}")
        try:
            upgrade(log=self.stdout.write, snapshot_dir=snapshot_dir)
        except UpgradeFailed as exc:
            raise CommandError(f"Upgrade failed and the database was restored: {exc}") from None
        self.stdout.write(self.style.SUCCESS("Upgrade complete."))
