from django import template

from ..messages import slack_escape

register = template.Library()


@register.filter(name="slack")
def slack(value) -> str:
    """Escape text for Slack mrkdwn (&, <, >)."""
    return slack_escape(str(value))
