"""Logs through the API, the page and the download, on the real engine."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import api_client_for

pytestmark = [pytest.mark.docker, pytest.mark.django_db]

HOSTILE = (
    "printf 'plain line\\n'; "
    "printf '<script>alert(1)</script>\\n'; "
    "printf '\\033[31mred text\\033[0m\\n'; "
    "printf 'bad \\377\\376 bytes\\n'; "
    "printf 'to stderr ERROR\\n' >&2; "
    "echo READY; sleep 300"
)


@pytest.fixture
def hostile(run_container):
    # The `local` log driver keeps bytes as written (json-file would already replace them).
    return run_container(["sh", "-c", HOSTILE], log_driver="local", wait_for="READY")


def logs_url(container, **params):
    from urllib.parse import urlencode

    return f"/api/v1/containers/{container.pk}/logs/" + (f"?{urlencode(params)}" if params else "")


def test_api_logs_lines_streams_and_untrusted_text(hostile, two_teams):
    response = api_client_for(two_teams["a"]["viewer"]).get(logs_url(hostile))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tty"] is False and body["truncated"] is False
    by_text = {line["text"]: line for line in body["lines"]}
    assert by_text["<script>alert(1)</script>"]["stream"] == "stdout"
    assert "red text" in by_text  # ANSI codes removed in the API
    assert "bad \ufffd\ufffd bytes" in by_text  # invalid UTF-8 replaced, not dropped
    assert by_text["to stderr ERROR"]["stream"] == "stderr"
    assert all(line["ts"].startswith("20") for line in body["lines"])


def test_api_filters_tail_search_regex_stream_and_time(hostile, two_teams):
    client = api_client_for(two_teams["a"]["viewer"])
    texts = lambda **p: [line["text"] for line in client.get(logs_url(hostile, **p)).json()["lines"]]  # noqa: E731
    last_two = texts(tail=2)
    assert len(last_two) == 2 and "READY" in last_two  # stdout and stderr are copied separately
    assert texts(q="error") == ["to stderr ERROR"]  # case-insensitive
    assert texts(q="^re(d|ady)", regex="true") == ["red text", "READY"]
    assert texts(q="^re(d", regex="false") == []  # a literal search, not a regex
    assert texts(stream="stderr") == ["to stderr ERROR"]
    assert "to stderr ERROR" not in texts(stream="stdout")
    assert texts(since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00Z") == []
    assert "READY" in texts(since="1h")


def test_api_bad_filters_are_field_errors(hostile, two_teams):
    client = api_client_for(two_teams["a"]["viewer"])
    response = client.get(logs_url(hostile, tail="many", q="(", regex="1"))
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert "tail" in details and "q" in details


def test_api_logs_other_team_is_404_and_search_q_does_not_filter_the_container(hostile, two_teams):
    assert api_client_for(two_teams["b"]["admin"]).get(logs_url(hostile)).status_code == 404
    # `q` searches the log, it is not the container list's search.
    assert api_client_for(two_teams["a"]["viewer"]).get(logs_url(hostile, q="zzz-nothing")).status_code == 200


def test_tty_container_is_one_stream(run_container, two_teams):
    container = run_container(["sh", "-c", "printf '\\033[32mgreen\\033[0m\\r\\n'; echo READY; sleep 300"], tty=True, wait_for="READY")
    body = api_client_for(two_teams["a"]["viewer"]).get(logs_url(container)).json()
    assert body["tty"] is True
    assert [line["text"] for line in body["lines"]] == ["green", "READY"]
    assert {line["stream"] for line in body["lines"]} == {"stdout"}


def test_page_renders_hostile_text_escaped_with_colour_classes(hostile, two_teams):
    client = Client()
    client.force_login(two_teams["a"]["viewer"])
    response = client.get(reverse("containers:logs", args=[hostile.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert '<span class="ansi-fg-1">red text</span>' in html
    assert 'class="log-line log-stderr"' in html
    # htmx asks for the lines only
    partial = client.get(reverse("containers:logs", args=[hostile.pk]) + "?q=red", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert "red text" in partial.content.decode() and "plain line" not in partial.content.decode()


def test_page_bad_filters_show_field_errors(hostile, two_teams):
    client = Client()
    client.force_login(two_teams["a"]["viewer"])
    response = client.get(reverse("containers:logs", args=[hostile.pk]) + "?tail=abc")
    assert response.status_code == 400
    assert "Enter a number of lines" in response.content.decode()
    assert client.get(reverse("containers:logs", args=[hostile.pk]).replace(str(hostile.pk), "999999")).status_code == 404


def test_download_is_a_streamed_text_file(hostile, two_teams):
    client = Client()
    client.force_login(two_teams["a"]["viewer"])
    response = client.get(reverse("containers:logs_download", args=[hostile.pk]) + "?timestamps=on")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"] == f'attachment; filename="{hostile.name}-logs.txt"'
    text = b"".join(response.streaming_content).decode()
    lines = text.splitlines()
    assert any(line.endswith(" <script>alert(1)</script>") and line.startswith("20") for line in lines)
    assert any(line.endswith(" red text") for line in lines)  # no escape codes in the file
    other = Client()
    other.force_login(two_teams["b"]["admin"])
    assert other.get(reverse("containers:logs_download", args=[hostile.pk])).status_code == 404


def test_byte_cap_and_tail_cap(run_container, two_teams, settings):
    container = run_container(["sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done; echo READY; sleep 300"], wait_for="READY")
    settings.CONTAINER_LOGS = {"max_bytes": 20_000}
    body = api_client_for(two_teams["a"]["viewer"]).get(logs_url(container, tail="all")).json()
    assert body["truncated"] is True and body["notes"]
    assert 0 < len(body["lines"]) < 3001
