"""Agents: a coordinator routes an analysis to specialised agents (logs, configuration,
performance, security), each with read-only tools, under one step cap and one token budget.

With Claude or Gemini each agent is a tool-use conversation through the provider's SDK; with
the offline provider (and plugins without tool use) the coordinator routes from the detector
findings' categories and every agent runs a fixed plan of tool calls. Every step is stored as
an AgentStep (agent, tool, input, redacted output summary, tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError

from .. import live
from ..models import AgentStep, Analysis
from ..providers import Request
from ..providers.offline import write_analysis
from . import tools as tools_mod
from .llm import CHATS, chat_for

SUMMARY_CHARS = 1000
REPORT_CHARS = 120  # of each tool output, in an offline agent's report
MAX_STEPS = 12  # defaults of settings.AI_AGENT_MAX_STEPS / AI_AGENT_TOKEN_BUDGET
TOKEN_BUDGET = 60_000


@dataclass(frozen=True)
class Agent:
    name: str
    focus: str
    tools: tuple[str, ...]
    plan: tuple[tuple[str, dict], ...]  # the offline run: tool calls in order


AGENTS: dict[str, Agent] = {a.name: a for a in (
    Agent("logs", "what the application logged before it failed, and the Docker events around it", ("logs", "events"),
          (("logs", {"tail": 100}), ("events", {"limit": 30}))),
    Agent("configuration", "the container's configuration: command, environment, mounts, ports, health check, restart policy",
          ("inspect", "logs"), (("inspect", {"section": "config"}), ("inspect", {"section": "state"}))),
    Agent("performance", "memory, CPU and limits: out-of-memory kills, throttling, resource exhaustion",
          ("stats_history", "inspect", "events"),
          (("stats_history", {"metric": "mem"}), ("stats_history", {"metric": "cpu"}), ("inspect", {"section": "limits"}))),
    Agent("security", "permissions, TLS and credentials, privileges, and known vulnerabilities of the image",
          ("scan_findings", "inspect", "logs"), (("inspect", {"section": "security"}), ("scan_findings", {"min_severity": "high"}))),
)}
ROUTES = {
    "oom": "performance", "cpu_throttling": "performance", "limits": "performance", "killed": "performance",
    "disk_full": "performance", "restart_loop": "performance", "alert": "performance",
    "config_error": "configuration", "missing_env": "configuration", "missing_file": "configuration",
    "missing_module": "configuration", "exec_format": "configuration", "port_in_use": "configuration",
    "start_failure": "configuration", "healthcheck": "configuration", "db_startup": "configuration",
    "nginx_upstream": "configuration", "connection": "configuration", "dns": "configuration",
    "permission_denied": "security", "tls": "security", "db_auth": "security",
}
DEFAULT_ROUTE = ("logs", "configuration")
PROPOSE_TOOL = tools_mod.Tool(
    "propose_fix", "Propose a fix for an operator to approve (nothing changes until they do). kind: restart, raise_memory "
    "(params.memory, e.g. \"512m\"), recreate (params.env {NAME: value|null}, params.ports [\"8080:80\"]), rollback_image.",
    {"type": "object", "properties": {"kind": {"type": "string", "enum": ["restart", "raise_memory", "recreate", "rollback_image"]},
                                      "params": {"type": "object"}, "rationale": {"type": "string"}}, "required": ["kind", "rationale"]},
    lambda ctx, args: "")  # run by the coordinator: it needs the analysis


def agent_system(agent: Agent) -> str:
    return (f"You are the {agent.name} specialist in a team troubleshooting a Docker container. Focus on {agent.focus}. "
            "Use the read-only tools to check the findings; stop calling tools as soon as you know enough, and answer with a short "
            "report citing evidence ids like [E1] that exist. Placeholders such as [SECRET_1] stand for redacted values: keep them.")


def route(findings) -> list[str]:
    """The agents to consult, in the order of the ranked findings that need them."""
    picked: list[str] = []
    for finding in findings:
        if finding.severity == "info":
            continue
        name = ROUTES.get(finding.category, "logs")
        if name not in picked:
            picked.append(name)
    return picked or list(DEFAULT_ROUTE)


@dataclass
class Run:
    analysis: Analysis
    ctx: tools_mod.ToolContext
    max_steps: int
    token_budget: int
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    stopped: str = ""  # "step_cap" | "token_budget" once a limit ended the run
    reports: dict = field(default_factory=dict)

    def may_continue(self) -> bool:
        if not self.stopped and self.steps >= self.max_steps:
            self.stopped = "step_cap"
        elif not self.stopped and self.input_tokens + self.output_tokens >= self.token_budget:
            self.stopped = "token_budget"
        return not self.stopped

    def record(self, agent: str, tool: str, args: dict, output: str, tokens: tuple[int, int] = (0, 0)) -> None:
        self.steps += 1
        self.input_tokens += tokens[0]
        self.output_tokens += tokens[1]
        step = AgentStep.objects.create(team_id=self.analysis.team_id, analysis=self.analysis, number=self.steps, agent=agent,
                                        tool=tool, input=args, output_summary=output[:SUMMARY_CHARS], input_tokens=tokens[0],
                                        output_tokens=tokens[1])
        live.push_step(step)  # the analysis page shows it now, not after a reload

    def call_tool(self, agent: Agent, name: str, args: dict) -> str:
        if name == PROPOSE_TOOL.name:
            return self._propose(agent, args)
        if name not in agent.tools:
            return f"error: the {agent.name} agent has no tool {name!r} (it has {', '.join(agent.tools)})"
        return tools_mod.call(self.ctx, name, args)

    def _propose(self, agent: Agent, args: dict) -> str:
        from ..fixes import propose

        try:
            made = propose(self.analysis, str(args.get("kind", "")), args.get("params") or {}, str(args.get("rationale", "")), f"agent:{agent.name}")
        except ValidationError as exc:
            return f"error: {exc.message_dict if hasattr(exc, 'error_dict') else exc.messages}"
        return f"proposed fix {made.pk}; an operator will review it" if made else "not proposed: the same fix is already open"


def _offline_agent(run: Run, agent: Agent) -> None:
    outputs = []
    for name, args in agent.plan:
        if not run.may_continue():
            return
        output = run.call_tool(agent, name, args)
        run.record(agent.name, name, args, output)
        outputs.append(f"{name}: {' '.join(output.split())[:REPORT_CHARS] or '(empty)'}")  # JSON output starts with "{"
    run.reports[agent.name] = "; ".join(outputs)


def _llm_agent(run: Run, agent: Agent, prepared) -> None:
    tools = [tools_mod.TOOLS[n] for n in agent.tools] + [PROPOSE_TOOL]
    chat = chat_for(prepared.choice, agent_system(agent), tools, f"{prepared.prompt}\n\nYour focus: {agent.focus}.")
    while run.may_continue():
        turn = chat.turn()
        run.model = turn.model or run.model
        tokens = (turn.input_tokens, turn.output_tokens)
        if not turn.calls:
            run.record(agent.name, "", {}, turn.text, tokens)
            run.reports[agent.name] = turn.text
            return
        results = []
        for i, call in enumerate(turn.calls):
            if i and not run.may_continue():  # the turn's first call was allowed by the check above
                return
            output = run.call_tool(agent, call.name, call.args)
            run.record(agent.name, call.name, call.args, output, tokens if i == 0 else (0, 0))
            results.append((call, output))
        chat.answer(results)


def _synthesise(run: Run, prepared) -> str | None:
    """The coordinator's answer from the agents' reports (one more provider call, one step)."""
    if not run.may_continue():
        return None
    reports = "\n\n".join(f"{name} agent:\n{text}" for name, text in run.reports.items())
    result = prepared.choice.provider.complete(Request(
        system=prepared.system, model=prepared.choice.model, findings=prepared.findings, evidence_ids=list(prepared.evidence),
        messages=[{"role": "user", "content": f"{prepared.prompt}\n\nReports of the specialised agents:\n{reports}"}]))
    run.record("coordinator", "", {"agents": list(run.reports)}, result.text, (result.input_tokens, result.output_tokens))
    run.model = result.model or run.model
    return result.text


def _fallback(run: Run, prepared) -> str:
    """Without a provider's synthesis (offline, or stopped at a limit): the detectors' analysis
    and what each agent found."""
    text = write_analysis(prepared.findings)
    if run.reports:
        text += "\n\nAgents consulted:\n" + "\n".join(f"- {name}: {report[:300]}" for name, report in run.reports.items())
    if run.stopped:
        limit = f"its step cap ({run.max_steps} steps)" if run.stopped == "step_cap" else f"its token budget ({run.token_budget} tokens)"
        text += f"\n\nThe agent run stopped at {limit}; the answer above rests on the steps it took."
    return text


@dataclass
class Outcome:
    text: str
    status: str  # "done" | "step_cap" | "token_budget"
    model: str
    input_tokens: int
    output_tokens: int


def run(analysis: Analysis, prepared, ctx: tools_mod.ToolContext, progress) -> Outcome:
    run_ = Run(analysis, ctx, getattr(settings, "AI_AGENT_MAX_STEPS", MAX_STEPS), getattr(settings, "AI_AGENT_TOKEN_BUDGET", TOKEN_BUDGET),
               model=prepared.choice.model)
    uses_tools = prepared.choice.provider.name in CHATS
    for name in route(prepared.findings):
        progress.log(f"Coordinator: consulting the {name} agent")
        if uses_tools:
            _llm_agent(run_, AGENTS[name], prepared)
        else:
            _offline_agent(run_, AGENTS[name])
        if run_.stopped:
            progress.log(f"Stopped at the {run_.stopped.replace('_', ' ')} after {run_.steps} steps")
            break
    text = _synthesise(run_, prepared) if uses_tools else None
    return Outcome(text or _fallback(run_, prepared), run_.stopped or "done", run_.model, run_.input_tokens, run_.output_tokens)
