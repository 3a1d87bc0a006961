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
