"""Live updates of one analysis, on its own group (never the team group):

    {"type": "step", "number": n, "html": "<tr ...>",  an agent step as it is stored, rendered
     "step": {...}}                                     server-side (autoescaped) by the worker;
                                                        "step" is the same as JSON (the CLI)
    {"type": "changed", "what": "status" | "fix", ...}  the analysis finished, or one of its
                                                        fixes changed status: the page re-fetches
                                                        itself over HTTP, so per-user buttons
                                                        (approve/reject) stay the view's decision

Sent after commit, so a page that re-fetches reads the committed rows."""

from __future__ import annotations

from django.template.loader import render_to_string

from apps.core.broadcast import broadcast, object_group


def group(analysis_id: int) -> str:
    return object_group("ai.analysis", analysis_id)


def step_event(step) -> dict:
    """The row for browsers, and the same fields as JSON for the CLI (the output is redacted)."""
    fields = {"agent": step.agent, "tool": step.tool, "input": step.input, "output_summary": step.output_summary,
              "input_tokens": step.input_tokens, "output_tokens": step.output_tokens}
    return {"type": "step", "number": step.number, "step": fields,
            "html": render_to_string("ai/_agent_step_row.html", {"step": step})}


def push_step(step) -> None:
    broadcast(group(step.analysis_id), step_event(step))


def push_changed(analysis_id: int | None, what: str, **ids) -> None:
    if analysis_id is not None:
        broadcast(group(analysis_id), {"type": "changed", "what": what, **ids})
