from django import template

register = template.Library()


@register.filter
def local_url(value) -> str:
    """The value if it is a path on this site, else "": event URLs become links, and a
    stored `javascript:` or off-site URL must never be one (autoescape does not stop that)."""
    value = str(value or "")
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return ""


@register.filter
def ago(value) -> str:
    """"just now", "5 minutes ago", ... ("never" for no time); timesince says "0 minutes"."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if not value:
        return "never"
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"
