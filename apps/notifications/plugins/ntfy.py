"""ntfy (https://ntfy.sh) built only on the public plugin interface, as a third-party
package would be: register it under the entry-point group `dockerforge.notification_channels`
(`ntfy = "apps.notifications.plugins.ntfy:NtfyChannel"`). The topic URL is a secret: anyone
who knows a topic can read it."""

import json
from urllib.parse import urlparse

from apps.notifications.channels import ChannelType, http_post, parse_headers, validate_http_url

# ntfy priorities: 1 (min) .. 5 (max)
PRIORITY = {"debug": 1, "info": 3, "warning": 4, "error": 5, "critical": 5}


class NtfyChannel(ChannelType):
    name = "ntfy"
    label = "ntfy (push notifications)"
    secret_fields = ("url", "headers")
    url_help = "The topic URL, e.g. https://ntfy.sh/my-secret-topic. An access token goes in headers (Authorization)."

    def clean(self, config, secrets):
        url = secrets.get("url", "")
        validate_http_url(url)
        if not urlparse(url).path.strip("/"):
            from django.core.exceptions import ValidationError

            raise ValidationError({"url": "The URL must end with the topic name."})
        return {}

    def send(self, channel, message):
        parsed = urlparse(channel.url)
        base, _, topic = parsed.path.rstrip("/").rpartition("/")
        server = parsed._replace(path=base or "/", query="", fragment="").geturl()
        body = {
            "topic": topic,
            "title": message.get("subject", "")[:250],
            "message": message.get("text", "")[:4000],
            "priority": PRIORITY.get(message.get("severity"), 3),
            "tags": [message.get("severity", "info")],
        }
        if message.get("url"):
            body["click"] = message["url"]
        headers = {**parse_headers(channel.headers), "Content-Type": "application/json"}
        return http_post(server, data=json.dumps(body).encode(), headers=headers)
