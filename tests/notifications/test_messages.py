"""Message templates per kind (text, HTML, Slack) and folding."""

from apps.notifications import messages


def env(kind, summary, **extra):
    return {"id": 1, "kind": kind, "severity": extra.pop("severity", "error"), "team": 1, "host": {"id": 2, "name": "db-1"},
            "target": {"kind": "image", "id": "x", "name": "api:1.2", "labels": {}}, "occurred_at": "2026-12-01T10:00:00+00:00",
            "summary": summary, "url": "/scans/5/", "data": {}, **extra}


def test_scan_event_message_links_back_and_escapes_html(settings):
    settings.SITE_URL = "https://df.example.test"
    m = messages.build(group_labels={"rule": "scan.new_findings", "host": "db-1"}, firing=[], resolved=[],
                       events=[env("scan.new_findings", "3 critical CVEs in <api>")])
    assert m["subject"] == "[DockerForge] [ERROR] 3 critical CVEs in <api>"
    assert "https://df.example.test/scans/5/" in m["text"] and "3 critical CVEs in <api>" in m["text"]
    assert "&lt;api&gt;" in m["html"] and "<api>" not in m["html"]
    assert "&lt;api&gt;" in m["blocks"][1]["text"]["text"]
    assert m["url"] == "https://df.example.test/scans/5/"


def test_fold_keeps_every_notification():
    parts = [messages.build(group_labels={}, firing=[], resolved=[], events=[env("host.down", f"down {i}")]) for i in range(3)]
    folded = messages.fold(parts)
    assert folded["event_count"] == 3 and len(folded["notifications"]) == 3
    assert all(f"down {i}" in folded["text"] for i in range(3))
    assert folded["subject"].startswith("3 notifications (3 events)")


def test_long_messages_fit_slack_limits():
    events = [env("container.died", "x" * 500) for _ in range(300)]
    m = messages.build(group_labels={}, firing=[], resolved=[], events=events)
    assert len(m["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in m["blocks"] if b["type"] == "section")
    assert "and 100 more" in m["text"]
