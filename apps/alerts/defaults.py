"""The rules every new team starts with (editable). Used by the post_save signal on Team
and by the data migration for teams that existed before the alerts app."""

DEFAULT_RULES = [
    {"name": "OOM killed", "kind": "event", "event": "oom", "severity": "error"},
    {"name": "Restart loop", "kind": "event", "event": "restart_loop", "restart_count": 3,
     "restart_window_seconds": 600, "severity": "error"},
    {"name": "Unhealthy for 2 min", "kind": "event", "event": "unhealthy", "for_seconds": 120, "severity": "warning"},
    {"name": "Host down", "kind": "event", "event": "host_down", "scope": "host", "severity": "critical"},
    {"name": "Memory above 90 % of limit", "kind": "metric", "metric": "mem_percent", "operator": ">", "threshold": 90.0,
     "hysteresis": 5.0, "for_seconds": 300, "severity": "warning"},
    {"name": "Host disk above 90 %", "kind": "metric", "scope": "host", "metric": "host_disk_percent", "operator": ">",
     "threshold": 90.0, "hysteresis": 2.0, "for_seconds": 300, "severity": "warning",
     "description": "Disk of the Docker root directory (server's own engine; remote hosts report no value)"},
]


def create_default_rules(team_id: int, rule_model) -> int:
    """Idempotent: a rule whose name the team already has is left alone."""
    made = 0
    for spec in DEFAULT_RULES:
        _, created = rule_model.objects.get_or_create(team_id=team_id, name=spec["name"], defaults=spec)
        made += created
    return made
