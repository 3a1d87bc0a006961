"""Analyses: request_* (authorize, start the Operation) and perform_* (the work)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from apps.activity import operations
from apps.core.api import user_may
from apps.core.roles import Action

from . import context as ctx_mod
from . import detectors, live, prompt
from .findings import Finding, number_evidence, rank
from .models import AIProviderSettings, Analysis
from .providers import Choice, Request, choose
from .providers.base import cost
from .redaction import Redactor

# Environment values that are configuration, not secrets (redacting them only hides context).
ENV_NOT_SECRET = {"PATH", "HOME", "HOSTNAME", "LANG", "LC_ALL", "TERM", "SHLVL", "PWD", "TZ", "GPG_KEY_ID"}
MAX_HOST_CONTAINERS = 10


@dataclass
class Prepared:
    """Everything an analysis sends, and how to read the answer back."""

    findings: list[Finding]
    system: str
    prompt: str
    redactor: Redactor
    choice: Choice
    evidence: dict = field(default_factory=dict)

    @property
    def input_hash(self) -> str:
        return prompt.input_hash(self.system, self.prompt)

    @property
    def cache_key(self) -> str:
        return prompt.cache_key(self.choice.provider.name, self.choice.model, self.input_hash)

    def preview(self) -> dict:
        """Exactly what will leave the installation (nothing, for the offline provider)."""
        return {
            "provider": self.choice.provider.name, "model": self.choice.model, "key_source": self.choice.key_source,
            "note": self.choice.note, "leaves_installation": self.choice.provider.needs_key,
            "system": self.system, "messages": [{"role": "user", "content": self.prompt}],
            "redactions": {token: _kind(token) for token in self.redactor.values},
        }


def _kind(token: str) -> str:
    return re.sub(r"[\[\]_\d]", "", token).lower()


def team_settings(team) -> AIProviderSettings | None:
    return AIProviderSettings.objects.filter(team=team).first()


def secret_values(inspect: dict) -> list[str]:
    values = []
    for item in (inspect.get("Config") or {}).get("Env") or []:
        name, _, value = item.partition("=")
        if name not in ENV_NOT_SECRET and len(value) >= 4 and not value.isdigit():
            values.append(value)
    return values


def findings_for(ctx) -> list[Finding]:
    return detectors.run_all(inspect=ctx.inspect, log_lines=ctx.log_lines, events=ctx.events, metric_findings=ctx.metric_findings)


def prepare_container(container, ctx=None) -> Prepared:
    ctx = ctx or ctx_mod.collect(container)
    findings = findings_for(ctx)
    evidence = number_evidence(findings)
    redactor = Redactor(secret_values(ctx.inspect))
    text = prompt.build(ctx, findings, redactor)
    prompt.redact_findings(findings, redactor)
    return Prepared(findings, prompt.SYSTEM, text, redactor, choose(team_settings(container.team)),
                    {k: v.as_dict() for k, v in evidence.items()})


def prepare_host(host, extra: list[Finding] | None = None) -> Prepared:
    """The host's troubled containers (exited with an error, restarting, unhealthy), together."""
    from apps.containers.models import Container

    rows = Container.objects.filter(host=host).present().exclude(state="running", health__in=["", "none", "healthy", "starting"])
    findings, parts, secrets = list(extra or []), [], []
    for container in rows.order_by("name")[:MAX_HOST_CONTAINERS]:
        ctx = ctx_mod.collect(container)
        secrets += secret_values(ctx.inspect)
        for finding in findings_for(ctx):
            if finding.severity == "info":
                continue
            finding.title = f"{container.name}: {finding.title}"
            findings.append(finding)
        parts.append(ctx)
    findings = rank(findings)
    evidence = number_evidence(findings)
    redactor = Redactor(secrets)
    text = redactor.redact(f"Host: {host.name}\nContainers with problems: {', '.join(c.name for c in parts) or 'none'}\n\n"
                           f"Findings:\n{prompt.render_findings(findings)}")
    prompt.redact_findings(findings, redactor)
    return Prepared(findings, prompt.SYSTEM, text, redactor, choose(team_settings(host.team)), {k: v.as_dict() for k, v in evidence.items()})


def may_analyse(user, team_id) -> bool:
    return user_may(user, team_id, Action.OPERATE)


def request_analysis(user, *, container=None, host=None, alert=None, mode: str = Analysis.Mode.DETECTORS) -> Analysis:
    from .tasks import run_analysis

    target = container or host
    kind = "container" if container is not None else "host"
    analysis = Analysis.objects.create(team=target.team, target_kind=kind, container=container, host=host, alert=alert, mode=mode,
                                       target_name=str(target.name), created_by=user if user.is_authenticated else None)
    op = operations.start(team=target.team, kind="ai.analysis", task=run_analysis, user=user, target_kind=kind,
                          target_id=target.pk, target_name=target.name, params={"analysis": analysis.pk})
    Analysis.objects.filter(pk=analysis.pk).update(operation=op)
    analysis.operation = op
    return analysis


def perform_analysis(op, progress) -> dict:
    analysis = Analysis.objects.select_related("container__host", "host", "team").get(pk=op.params["analysis"])
    try:
        return _analyse(analysis, progress)
    except Exception as exc:
        Analysis.objects.filter(pk=analysis.pk).update(status=Analysis.Status.FAILED, error=str(exc)[:2000])
        raise
    finally:
        live.push_changed(analysis.pk, "status")  # after the fixes were proposed: the page re-reads it all


def request_alert_analysis(user, alert, *, mode: str = Analysis.Mode.DETECTORS) -> Analysis:
    """Analyse the alert's container or host, with the alert and its metric window as context."""
    from django.core.exceptions import ValidationError

    from . import alert_context

    container, host = alert_context.target_of(alert)
    if container is None and host is None:
        raise ValidationError({"alert": ["The alert's container or host no longer exists."]})
    return request_analysis(user, container=container, host=host, alert=alert, mode=mode)


def _alert_findings(analysis: Analysis, target) -> list[Finding]:
    if analysis.alert_id is None:
        return []
    from . import alert_context

    return [alert_context.finding(analysis.alert, target)]


def _agent_fields(analysis: Analysis, prepared: Prepared, ctx, progress) -> dict:
    """Run the coordinator and its agents (agents mode); never served from the cache, since
    the agents read live state."""
    from . import agents
    from .agents.tools import ToolContext

    window = None
    if analysis.alert_id is not None:
        from . import alert_context

        window = alert_context.window(analysis.alert)
    outcome = agents.run(analysis, prepared, ToolContext(analysis.container, prepared.redactor, ctx.inspect, window), progress)
    cited, invalid = prompt.citations(outcome.text, prepared.evidence)
    return {"explanation": outcome.text, "citations": cited, "invalid_citations": invalid, "model": outcome.model,
            "input_tokens": outcome.input_tokens, "output_tokens": outcome.output_tokens, "agent_status": outcome.status,
            "cost_usd": cost(outcome.model, outcome.input_tokens, outcome.output_tokens), "cache_key": ""}


def _analyse(analysis: Analysis, progress) -> dict:
    progress.log(f"Collecting inspect, log and events of {analysis.target_name}")
    ctx = None
    if analysis.target_kind == "container":
        ctx = ctx_mod.collect(analysis.container)
        ctx.metric_findings += _alert_findings(analysis, analysis.container)
        prepared = prepare_container(analysis.container, ctx)
    else:
        prepared = prepare_host(analysis.host, _alert_findings(analysis, analysis.host))
    progress.log(f"{len(prepared.findings)} findings; provider {prepared.choice.provider.name} ({prepared.choice.model})")
    progress.progress(0.4)
    fields = {
        "findings": [f.as_dict() for f in prepared.findings], "evidence": prepared.evidence,
        "redaction_map": prepared.redactor.to_json(), "provider": prepared.choice.provider.name, "model": prepared.choice.model,
        "prompt_version": prompt.PROMPT_VERSION, "input_hash": prepared.input_hash, "cache_key": prepared.cache_key,
    }
    agents_mode = analysis.mode == Analysis.Mode.AGENTS and ctx is not None
    hit = None if agents_mode else (
        Analysis.objects.filter(team=analysis.team, cache_key=prepared.cache_key, status=Analysis.Status.SUCCEEDED,
                                mode=Analysis.Mode.DETECTORS).exclude(pk=analysis.pk).order_by("-created_at").first())
    if agents_mode:
        fields.update(_agent_fields(analysis, prepared, ctx, progress))
    elif hit is not None:
        progress.log(f"Served from the cache (analysis {hit.pk}); no provider call")
        fields.update(explanation=hit.explanation, citations=hit.citations, invalid_citations=hit.invalid_citations,
                      cached_from=hit, model=hit.model, redaction_map=hit.redaction_map)
    else:
        result = prepared.choice.provider.complete(Request(
            system=prepared.system, messages=[{"role": "user", "content": prepared.prompt}], model=prepared.choice.model,
            findings=prepared.findings, evidence_ids=list(prepared.evidence)))
        cited, invalid = prompt.citations(result.text, prepared.evidence)
        if invalid:
            progress.log(f"The answer cites evidence that does not exist: {', '.join(invalid)}")
        fields.update(explanation=result.text, citations=cited, invalid_citations=invalid, model=result.model,
                      input_tokens=result.input_tokens, output_tokens=result.output_tokens, cost_usd=result.cost_usd)
    Analysis.objects.filter(pk=analysis.pk).update(status=Analysis.Status.SUCCEEDED, **fields)
    _propose_fixes(analysis, progress)
    return {"analysis": analysis.pk, "findings": len(prepared.findings), "cached": hit is not None,
            "invalid_citations": fields["invalid_citations"]}


def _propose_fixes(analysis: Analysis, progress) -> None:
    from .fixes import propose_from_findings

    analysis.refresh_from_db()
    for fix in propose_from_findings(analysis):
        progress.log(f"Proposed a fix for an operator to approve: {fix.get_kind_display()}")


def preview_container(container) -> dict:
    return prepare_container(container).preview()


def redaction_json(values: dict) -> str:
    return json.dumps(values)
