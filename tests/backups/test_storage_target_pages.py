"""Storage target pages: the list on the backups page (every member, never a secret), the
create/edit form (admins; htmx answers 400 with field errors; the secret key is write-only and
kept when left empty), delete, and the Check button against moto's real S3 server."""

import boto3
import pytest
from django.urls import reverse

from apps.backups.models import Backup, StorageTarget
from tests.helpers import unique

from .conftest import S3_KEY_ID, S3_SECRET

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def page(client):
    """page(user) -> a client logged in as `user`, on the user's first team."""

    def login(member: dict, role: str):
        client.force_login(member[role])
        session = client.session
        session["current_team_id"] = member["team"].pk
        session.save()
        return client

    return login


def _body(endpoint: str, **change) -> dict:
    return {"name": "offsite", "kind": "s3", "endpoint_url": endpoint, "bucket": "df-offsite", "region": "us-east-1",
            "access_key_id": S3_KEY_ID, "secret_key": S3_SECRET, "prefix": "df", **change}


def test_viewer_sees_the_list_without_secrets_or_buttons(s3_target, team_a, team_b, page):
    StorageTarget.objects.create(team=team_b["team"], name="their-target", kind="local")
    html = page(team_a, "viewer").get(reverse("backups:list")).content.decode()
    assert 'id="storage-targets"' in html and s3_target.name in html and s3_target.bucket in html
    assert S3_SECRET not in html and "their-target" not in html
    assert reverse("backups:target_edit", args=[s3_target.pk]) not in html
    assert reverse("backups:target_check", args=[s3_target.pk]) not in html
    assert reverse("backups:target_create") not in html


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_create_edit_check_delete(s3_target, team_a, page, role):
    client = page(team_a, role)
    assert client.get(reverse("backups:target_create")).status_code == 403
    assert client.post(reverse("backups:target_create"), _body("http://127.0.0.1:9", name="x")).status_code == 403
    assert client.get(reverse("backups:target_edit", args=[s3_target.pk])).status_code == 403
    assert client.post(reverse("backups:target_check", args=[s3_target.pk])).status_code == 403
    assert client.post(reverse("backups:target_delete", args=[s3_target.pk])).status_code == 403
    assert StorageTarget.objects.filter(pk=s3_target.pk).exists() and not StorageTarget.objects.filter(name="x").exists()


def test_another_teams_target_is_not_found(s3_target, team_b, page):
    client = page(team_b, "admin")
    for name in ("backups:target_check", "backups:target_delete"):
        assert client.post(reverse(name, args=[s3_target.pk])).status_code == 404
    assert client.get(reverse("backups:target_edit", args=[s3_target.pk])).status_code == 404


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"endpoint_url": "not a url at all"}, "endpoint_url", "Enter a valid URL."),
    ({"endpoint_url": "http://169.254.169.254/"}, "endpoint_url", "cloud metadata addresses are not allowed"),
    ({"bucket": ""}, "bucket", "3-63 lowercase letters"),
    ({"bucket": "Not_A_Bucket"}, "bucket", "3-63 lowercase letters"),
    ({"secret_key": ""}, "secret_key", "This field is required for S3."),
    ({"kind": "ftp"}, "kind", "Select a valid choice"),
    ({"name": ""}, "name", "This field is required."),
])
def test_bad_input_is_a_field_error_in_place(s3_plugin, moto_endpoint, team_a, page, change, field, message):
    resp = page(team_a, "admin").post(reverse("backups:target_create"), _body(moto_endpoint, **change), **HTMX)
    assert resp.status_code == 400
    html = resp.content.decode()
    assert html.lstrip().startswith('<section class="panel" id="target-form">'), "htmx gets the form partial only"
    assert message in html and field in resp.context["form"].errors
    assert not StorageTarget.objects.exists()
    assert S3_SECRET not in html, "the secret is never rendered back"


def test_create_edit_keeps_the_secret_duplicate_name_refused(s3_plugin, moto_endpoint, team_a, page):
    client = page(team_a, "admin")
    resp = client.post(reverse("backups:target_create"), _body(moto_endpoint), **HTMX)
    assert resp.status_code == 200 and resp["HX-Redirect"].startswith(reverse("backups:list"))
    target = StorageTarget.objects.get(team=team_a["team"], name="offsite")
    assert target.secret_key == S3_SECRET and target.endpoint_url == moto_endpoint

    edit = reverse("backups:target_edit", args=[target.pk])
    form = client.get(edit).content.decode()
    assert S3_SECRET not in form and "A secret key is set." in form
    assert client.post(edit, _body(moto_endpoint, secret_key="", prefix="elsewhere")).status_code == 302
    target.refresh_from_db()
    assert target.secret_key == S3_SECRET and target.prefix == "elsewhere"

    again = client.post(reverse("backups:target_create"), _body(moto_endpoint), **HTMX)
    assert again.status_code == 400 and "has a storage target of that name" in again.content.decode()


def test_check_button_ok_and_failing(s3_target, team_a, page):
    client = page(team_a, "admin")
    url = reverse("backups:target_check", args=[s3_target.pk])
    ok = client.post(url, **HTMX).content.decode()
    assert f'id="target-check-{s3_target.pk}"' in ok and "reachable" in ok and "failed" not in ok

    StorageTarget.objects.filter(pk=s3_target.pk).update(bucket="df-no-such-bucket")
    failed = client.post(url, **HTMX).content.decode()
    assert "failed" in failed and "S3 access check in bucket df-no-such-bucket: 404" in failed
    assert S3_SECRET not in failed and S3_KEY_ID not in failed

    # wrong credentials: moto checks none by default, so prove the message with a closed port
    StorageTarget.objects.filter(pk=s3_target.pk).update(endpoint_url="http://127.0.0.1:1", bucket=s3_target.bucket)
    closed = client.post(url, follow=True).content.decode()  # without htmx: a message on the list
    assert "S3 access check at 127.0.0.1:1: EndpointConnectionError" in closed


def test_delete_refused_while_backups_use_it(s3_target, team_a, page):
    client = page(team_a, "admin")
    backup = Backup.objects.create(team=team_a["team"], kind="volume", target_name="v", status="completed",
                                   storage="s3", storage_target=s3_target, folder="f")
    url = reverse("backups:target_delete", args=[s3_target.pk])
    html = client.post(url, follow=True).content.decode()
    assert "Backups or schedules use" in html and StorageTarget.objects.filter(pk=s3_target.pk).exists()
    backup.delete()
    client.post(url)
    assert not StorageTarget.objects.filter(pk=s3_target.pk).exists()


def test_backup_and_import_forms_offer_the_teams_targets(s3_target, team_a, page):
    client = page(team_a, "admin")
    html = client.get(reverse("backups:list")).content.decode()
    assert 'name="incremental"' in html and f'<option value="{s3_target.pk}">{s3_target.name}</option>' in html
    imp = client.get(reverse("backups:import")).content.decode()
    assert f'<option value="{s3_target.pk}">{s3_target.name}</option>' in imp and "Local backup directory" in imp
    sched = client.get(reverse("backups:schedule_create")).content.decode()
    assert 'name="incremental"' in sched and f'<option value="{s3_target.pk}">{s3_target.name}</option>' in sched


def test_bucket_made_through_boto_is_checked_ok(moto_endpoint, s3_plugin, team_a, page):
    """A target created on the page for a bucket that exists: check says reachable."""
    bucket = unique("dfpg").lower().replace("_", "-")[:63]
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id=S3_KEY_ID,
                 aws_secret_access_key=S3_SECRET).create_bucket(Bucket=bucket)
    client = page(team_a, "admin")
    assert client.post(reverse("backups:target_create"), _body(moto_endpoint, bucket=bucket, name="pg")).status_code == 302
    target = StorageTarget.objects.get(name="pg")
    assert "reachable" in client.post(reverse("backups:target_check", args=[target.pk]), **HTMX).content.decode()
