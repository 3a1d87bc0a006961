"""Teams that existed before the alerts app get the default rules too (new teams get
them from the post_save signal)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from apps.alerts.defaults import create_default_rules

    Team = apps.get_model("accounts", "Team")
    AlertRule = apps.get_model("alerts", "AlertRule")
    for team_id in Team.objects.values_list("pk", flat=True):
        create_default_rules(team_id, AlertRule)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial"), ("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
