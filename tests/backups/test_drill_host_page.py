"""The verify form's host for a restore drill (pages and services; no engine: the Operation is
only queued): the team's hosts only, and only with the drill."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.activity.models import Operation
from apps.backups import services
from apps.backups.models import Backup
from apps.hosts.models import DockerHost

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(two_teams):
    a, b = two_teams["a"], two_teams["b"]
    mine = DockerHost.objects.create(team=a["team"], name="drill-here", url="tcp://127.0.0.1:1")
    theirs = DockerHost.objects.create(team=b["team"], name="not-yours", url="tcp://127.0.0.1:1")
    backup = Backup.objects.create(team=a["team"], kind="volume", target_name="v", status="completed", folder="f/imp")
    return {"a": a, "mine": mine, "theirs": theirs, "backup": backup}


def test_detail_page_offers_the_teams_hosts_for_the_drill(imported, client):
    client.force_login(imported["a"]["operator"])
    html = client.get(reverse("backups:detail", args=[imported["backup"].pk])).content.decode()
    assert 'name="host"' in html and "choose a host" in html
    assert f'<option value="{imported["mine"].pk}">drill-here</option>' in html and "not-yours" not in html


def test_verify_post_with_a_host(imported, client):
    backup, url = imported["backup"], reverse("backups:verify", args=[imported["backup"].pk])
    client.force_login(imported["a"]["operator"])
    refused = client.post(url, {"drill": "1", "host": imported["theirs"].pk}, follow=True)
    assert "Choose a host of the backup&#x27;s team for the drill." in refused.content.decode()
    no_drill = client.post(url, {"host": imported["mine"].pk}, follow=True)
    assert "only used by a restore drill" in no_drill.content.decode()
    assert not Operation.objects.filter(kind="backup.verify").exists()

    resp = client.post(url, {"drill": "1", "host": imported["mine"].pk})
    assert resp.status_code == 302
    op = Operation.objects.get(kind="backup.verify")
    assert op.params == {"backup": backup.pk, "drill": True, "drill_host": imported["mine"].pk}

    client.force_login(imported["a"]["viewer"])
    assert client.post(url, {"drill": "1", "host": imported["mine"].pk}).status_code == 403


def test_service_refuses_another_teams_host(imported):
    with pytest.raises(ValidationError) as exc:
        services.request_verify(imported["a"]["operator"], imported["backup"], drill=True, host=imported["theirs"])
    assert exc.value.message_dict == {"host": ["Choose a host of the backup's team."]}
