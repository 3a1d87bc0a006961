"""`dockerforge chat` as the real console script against the live daphne server: answers
stream over the WebSocket (token auth), the memory answers a follow-up, --json prints the
answer object, the prompt reads one line per message, viewers may not send (exit 4), and
container names complete."""

from __future__ import annotations

import time

import pytest

from tests.helpers import RUN_ID, TEST_LABEL, unique

from .conftest import Cli
from .test_live import CASE_LABEL, IMAGE, api, complete

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
PORT_CLASH = "listen tcp 0.0.0.0:8080: bind: address already in use"


def port_clash_container(cli: Cli, host_id: int) -> str:
    name = unique("cli-chat")
    accepted = api(cli, "POST", "containers/", {
        "host": host_id, "image": IMAGE, "name": name,
        "command": ["sh", "-c", f"echo starting; echo '{PORT_CLASH}' >&2; while true; do sleep 1; done"],
        "labels": {TEST_LABEL: RUN_ID, CASE_LABEL: name},
    })
    deadline = time.monotonic() + 60
    op = api(cli, "GET", f"operations/{accepted['operation']}/")
    while op["status"] not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.3)
        op = api(cli, "GET", f"operations/{accepted['operation']}/")
    assert op["status"] == "succeeded", op
    return name


def test_chat_streams_remembers_and_prints_json(logged_in, local_host, live_daphne, tmp_path):
    cli = logged_in
    name = port_clash_container(cli, local_host["id"])

    first = cli("chat", name, "--message", "Why is it failing?")
    assert first.code == 0, first.err
    assert "port" in first.out.lower() and "[E1]" in first.out  # the detectors' finding, from the live log
    first_line = first.out.strip().splitlines()[0]

    follow = cli("chat", name, "-m", "What was the first thing you said?", "--json")
    assert follow.code == 0, follow.err
    body = follow.json()
    assert body["answer"]["role"] == "assistant" and f'Earlier I said: "{first_line}"' in body["answer"]["content"]
    assert body["conversation"]["message_count"] == 4 and body["conversation"]["provider"] == "offline"
    conversation = body["conversation"]["id"]

    repl = cli("chat", name, "--new", input="why did it fail?\nwhat was the first thing you said?\nexit\nnever sent\n")
    assert repl.code == 0, repl.err
    assert repl.out.count("Earlier I said") == 1 and "never sent" not in repl.out
    listed = api(cli, "GET", f"conversations/?container={body['conversation']['container']}")
    assert listed["count"] == 2 and conversation in [c["id"] for c in listed["results"]]
    newest = max(listed["results"], key=lambda c: c["id"])
    assert newest["message_count"] == 4  # the prompt's two turns; `exit` ended it

    # A viewer may read the conversation but not send to it: exit 4.
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership
    from apps.core.roles import Role

    from .conftest import PASSWORD

    viewer = get_user_model().objects.create_user("chatviewer", password=PASSWORD)
    Membership.objects.create(user=viewer, team=cli.team, role=Role.VIEWER)
    other = Cli(tmp_path / "viewer-config")
    other.config_home.mkdir()
    assert other("login", live_daphne, "-u", "chatviewer", "--password-stdin", input=PASSWORD).code == 0
    denied = other("chat", name, "--conversation", str(conversation), "-m", "hi")
    assert denied.code == 4 and "may read" in denied.err

    assert cli("chat", "no-such-container-x", "-m", "hi").code == 3
    assert complete(cli, tmp_path, f"dockerforge chat {name[:-3]}") == [name]
