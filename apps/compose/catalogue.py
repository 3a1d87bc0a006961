"""Templates: the built-in catalogue and deploying a template (built-in or a team's) into a
new stack folder. Template variables are the compose file's `${VARIABLES}`; their values go
to the new stack's `.env`, so the file stays plain Compose."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from apps.core.roles import Action

from . import services
from .models import ComposeTemplate


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    compose_text: str
    variables: list[dict] = field(default_factory=list)


BUILTIN = {
    t.key: t for t in (
        Template(
            "web-db", "Web app + PostgreSQL", "nginx in front of a PostgreSQL database with a named volume.",
            """services:
  web:
    image: ${WEB_IMAGE}
    ports:
      - "${WEB_PORT}:80"
    depends_on: [db]
  db:
    image: ${DB_IMAGE}
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD:?set a database password}
    volumes:
      - db_data:/var/lib/postgresql/data
volumes:
  db_data:
""",
            [{"name": "WEB_IMAGE", "default": "nginx:alpine", "description": "Web server image"},
             {"name": "WEB_PORT", "default": "8080", "description": "Port on the host"},
             {"name": "DB_IMAGE", "default": "postgres:16-alpine", "description": "Database image"},
             {"name": "DB_PASSWORD", "default": "", "description": "Database password", "secret": True}],
        ),
        Template(
            "reverse-proxy", "Reverse proxy (Caddy)", "Caddy serving HTTPS in front of an upstream on a shared network.",
            """services:
  proxy:
    image: ${PROXY_IMAGE}
    ports:
      - "${HTTP_PORT}:80"
      - "${HTTPS_PORT}:443"
    volumes:
      - caddy_data:/data
    networks: [proxy]
networks:
  proxy:
    name: ${PROXY_NETWORK}
volumes:
  caddy_data:
""",
            [{"name": "PROXY_IMAGE", "default": "caddy:2"}, {"name": "HTTP_PORT", "default": "80"},
             {"name": "HTTPS_PORT", "default": "443"}, {"name": "PROXY_NETWORK", "default": "proxy"}],
        ),
        Template(
            "monitoring", "Monitoring (Prometheus + Grafana)", "Prometheus scraping itself, Grafana on top.",
            """services:
  prometheus:
    image: ${PROMETHEUS_IMAGE}
    ports: ["${PROMETHEUS_PORT}:9090"]
    volumes: [prom_data:/prometheus]
  grafana:
    image: ${GRAFANA_IMAGE}
    depends_on: [prometheus]
    ports: ["${GRAFANA_PORT}:3000"]
    environment:
      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_PASSWORD:?set an admin password}
    volumes: [grafana_data:/var/lib/grafana]
volumes:
  prom_data:
  grafana_data:
""",
            [{"name": "PROMETHEUS_IMAGE", "default": "prom/prometheus"}, {"name": "PROMETHEUS_PORT", "default": "9090"},
             {"name": "GRAFANA_IMAGE", "default": "grafana/grafana"}, {"name": "GRAFANA_PORT", "default": "3000"},
             {"name": "GRAFANA_PASSWORD", "default": "", "secret": True}],
        ),
    )
}


def resolve(user, ref: str) -> Template:
    """"builtin:<key>" or a team template's id the user may read."""
    if ref.startswith("builtin:"):
        found = BUILTIN.get(ref.removeprefix("builtin:"))
    else:
        found = None
        if ref.isdigit():
            row = ComposeTemplate.objects.for_user(user, Action.VIEW).filter(pk=int(ref)).first()
            if row:
                found = Template(str(row.pk), row.name, row.description, row.compose_text, row.variables or [])
    if found is None:
        raise ValidationError({"template": [f"No template {ref!r}."]})
    return found


def env_for(template: Template, values: dict[str, str]) -> str:
    """The new stack's .env: every declared variable, given value or default."""
    lines, missing = [], []
    for var in template.variables:
        value = str(values.get(var["name"], var.get("default", "")))
        if not value and var.get("required", var.get("secret", False)):
            missing.append(var["name"])
        if "\n" in value:
            raise ValidationError({"variables": [f"{var['name']}: a value cannot span lines."]})
        lines.append(f"{var['name']}={value}")
    if missing:
        raise ValidationError({"variables": [f"Set {', '.join(missing)}."]})
    return "\n".join(lines) + "\n"


def deploy(user, host, ref: str, name: str, values: dict[str, str], *, up: bool = False):
    """A new stack from a template; with `up`, also its first `up` (an Operation)."""
    services.require(user, host.team_id, Action.MANAGE)
    template = resolve(user, ref)
    project = services.create_project(user, host, name, template.compose_text, env_for(template, values),
                                      comment=f"From template {template.name}")
    op = services.request_operation(user, project, "up") if up else None
    return project, op
