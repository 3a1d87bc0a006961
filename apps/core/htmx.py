"""htmx helpers: one view and one template per page; an htmx request gets `page.html#partial`."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_page(request, template: str, context: dict, partial: str | None = None, status: int = 200):
    """Render the whole page, or only `partial` when htmx asks (and says so in Vary)."""
    name = f"{template}#{partial}" if partial and getattr(request, "htmx", False) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def trigger(response, event: str):
    """Ask the page to fire a follow-up event (HX-Trigger)."""
    response["HX-Trigger"] = event
    return response
