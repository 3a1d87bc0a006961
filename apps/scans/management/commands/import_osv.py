from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Team
from apps.scans import services
from apps.scans.osv import OSVError


class Command(BaseCommand):
    help = "Import OSV JSON (a file, a directory of them, or a zip) as a team's vulnerability database, then re-match its scans."

    def add_arguments(self, parser):
        parser.add_argument("path", help="OSV .json file, .zip, or directory")
        parser.add_argument("--team", required=True, help="Team slug or id")
        parser.add_argument("--name", default="", help="Database name (default: the file name)")
        parser.add_argument("--no-rematch", action="store_true", help="Do not re-match the team's latest scans")

    def handle(self, path, team, name, no_rematch, **options):
        found = Team.objects.filter(slug=team).first() or (Team.objects.filter(pk=int(team)).first() if team.isdigit() else None)
        if found is None:
            raise CommandError(f"No team {team!r}")
        try:
            db = services.import_path(found, path, name=name)
        except (OSError, OSVError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Imported {db.record_count} records into {db.name} ({', '.join(db.ecosystems) or 'no supported ecosystem'})")
        if not no_rematch:
            self.stdout.write(f"Re-matched {services.rematch_team(found)} scans")
