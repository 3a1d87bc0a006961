from importlib.metadata import EntryPoint

import pytest

from apps.core import checks
from apps.core.registries import Panel, PanelRegistry, Registry


def test_registry_register_get_and_duplicate_name():
    reg = Registry("test_point")
    reg.register("a", object())
    assert "a" in reg and reg.entry_point_group == "dockerforge.test_point"
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", object())


def test_plugins_load_from_entry_points_and_broken_plugin_is_not_fatal(monkeypatch):
    good = EntryPoint(name="good", value="json:dumps", group="dockerforge.test_point")
    bad = EntryPoint(name="bad", value="no_such_module_xyz:thing", group="dockerforge.test_point")

    def fake_entry_points(group):
        return [good, bad] if group == "dockerforge.test_point" else []

    monkeypatch.setattr("apps.core.registries.entry_points", fake_entry_points)
    reg = Registry("test_point")
    import json

    assert reg.get("good") is json.dumps
    assert "bad" not in reg


def test_panels_are_ordered_per_page():
    reg = PanelRegistry()
    reg.add("host_detail", Panel(20, "b", "B", lambda r, o: "b"))
    reg.add("host_detail", Panel(10, "a", "A", lambda r, o: "a"))
    assert [p.name for p in reg.for_page("host_detail")] == ["a", "b"]
    assert reg.for_page("nothing") == []


def test_pre_action_checks_can_block_and_warn():
    def policy(team, spec):
        if spec.get("privileged"):
            yield checks.CheckResult("block", "privileged containers are forbidden", "policy")
        yield checks.CheckResult("warn", "no memory limit", "policy")

    checks.register("container.create.test", policy)
    try:
        results = checks.run("container.create.test", None, {"privileged": True})
        assert [r.level for r in checks.blocking(results)] == ["block"]
        assert len(checks.run("container.create.test", None, {})) == 1
    finally:
        checks.unregister("container.create.test", policy)
