"""`manage.py upgrade`: snapshot, migrate, health checks; a failing migration restores the
snapshot. The failing migration belongs to a throwaway app written to a temp dir on sys.path."""

import sys
import textwrap
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failing_app(tmp_path, settings):
    name = f"upgfail_{uuid.uuid4().hex[:8]}"
    pkg = tmp_path / name
    (pkg / "migrations").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "migrations" / "__init__.py").write_text("")
    (pkg / "migrations" / "0001_initial.py").write_text(textwrap.dedent("""\
        from django.db import migrations, models

        class Migration(migrations.Migration):
            initial = True
            operations = [migrations.CreateModel("Thing", [("id", models.BigAutoField(primary_key=True))])]
        """))
    (pkg / "migrations" / "0002_breaks.py").write_text(textwrap.dedent("""\
        from django.db import migrations

        def boom(apps, schema_editor):
            raise RuntimeError("this migration is made to fail")

        class Migration(migrations.Migration):
            dependencies = [("APP", "0001_initial")]
            operations = [migrations.RunPython(boom)]
        """).replace("APP", name))
    sys.path.insert(0, str(tmp_path))
    settings.UPGRADE_SNAPSHOT_DIR = tmp_path / "snapshots"
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, name]
    yield name
    sys.path.remove(str(tmp_path))
    sys.modules.pop(name, None)


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


def _applied(app: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = %s", [app])
        return cursor.fetchone()[0]


def test_a_failing_migration_restores_the_snapshot(failing_app, django_user_model):
    django_user_model.objects.create_user("kept", password="x-kept-pw")
    with pytest.raises(CommandError, match="restored.*made to fail"):
        call_command("upgrade")
    connection.close()
    assert f"{failing_app}_thing" not in _tables()  # 0001 had created it: the snapshot took it away
    assert _applied(failing_app) == 0
    assert django_user_model.objects.filter(username="kept").exists()  # the data before the upgrade is there


def test_an_upgrade_with_nothing_to_do_succeeds_and_leaves_a_snapshot(settings, tmp_path, capsys):
    from apps.updates.upgrade import upgrade

    report = upgrade(snapshot_dir=tmp_path, log=lambda line: None)
    assert report.steps == ["migrate", "health checks"] and not report.restored
    assert report.snapshot.path.exists() and report.snapshot.path.stat().st_size > 0
