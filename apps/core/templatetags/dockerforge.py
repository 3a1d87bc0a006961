from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context, panel, obj=None):
    """Render a page panel a later app registered (core.registries.panels)."""
    return panel.render(context["request"], obj) or ""
