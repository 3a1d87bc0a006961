"""The channel-type plugin interface and the built-in types (email, Slack, webhook).

A channel type is a `ChannelType` subclass registered in
apps.core.registries.notification_channels under its `name`; third-party packages join
through the entry-point group `dockerforge.notification_channels` (the registry loads it).
Types only send: routing, grouping, rate limits and retries are the same for all of them.

Errors never carry a secret: messages name the scheme and host only, not the URL.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email

from apps.core.outbound import OutboundAddressDenied, check_address
from apps.core.registries import notification_channels

from . import conf
from .models import url_hint

SIGNATURE_HEADER = "X-DockerForge-Signature"
TIMESTAMP_HEADER = "X-DockerForge-Timestamp"
# Headers a user may not set: they are ours, or they would confuse the transport.
RESERVED_HEADERS = {"host", "content-length", "content-type", "transfer-encoding", SIGNATURE_HEADER.lower(), TIMESTAMP_HEADER.lower()}


class TransportError(Exception):
    """A failed send. `permanent` ones (4xx, bad address, auth) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after


@dataclass
class SendResult:
    code: int | None = None


class ChannelType:
    """Base class of every channel type (built-in or plugin)."""

    name = ""
    label = ""
    # Which of the channel's generic fields this type uses (forms show only these).
    secret_fields: tuple[str, ...] = ()  # of url, password, signing_secret, headers
    config_fields: tuple[str, ...] = ()  # keys of Channel.config
    url_help = ""

    def clean(self, config: dict, secrets: dict) -> dict:
        """Validate and normalise config (secrets are read-only here). Raise ValidationError
        with a dict of field errors. Returns the config to store."""
        return config

    def addresses(self, channel) -> list[tuple[str, int | None]]:
        """Every (host, port) sending will connect to: checked against the outbound policy."""
        return [_host_port(channel.url)] if channel.url else []

    def send(self, channel, message: dict) -> SendResult:
        raise NotImplementedError

    # --- helpers
    def check_addresses(self, channel) -> None:
        for host, port in self.addresses(channel):
            try:
                check_address(host, port)
            except OutboundAddressDenied as exc:
                raise TransportError(f"address not allowed: {exc}", permanent=True) from None


def channel_type(kind: str) -> ChannelType:
    try:
        item = notification_channels.get(kind)
    except KeyError:
        raise TransportError(f"unknown channel type {kind!r} (plugin not installed?)", permanent=True) from None
    return item() if isinstance(item, type) else item


def channel_type_choices() -> list[tuple[str, str]]:
    out = []
    for name, item in notification_channels.items():
        label = getattr(item, "label", "") or name
        out.append((name, label))
    return out


# --- shared validation -----------------------------------------------------------------------

def _host_port(url: str) -> tuple[str, int | None]:
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.hostname or "", port


def validate_http_url(url: str, field: str = "url") -> None:
    if not url:
        raise ValidationError({field: "This field is required."})
    if len(url) > 2000:
        raise ValidationError({field: "At most 2000 characters."})
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValidationError({field: "Not a valid URL."}) from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValidationError({field: "Enter an http:// or https:// URL."})
    if parsed.username or parsed.password:
        raise ValidationError({field: "Put credentials in headers, not in the URL."})
    try:
        check_address(parsed.hostname, _host_port(url)[1])
    except OutboundAddressDenied as exc:
        raise ValidationError({field: f"This address is not allowed: {exc}"}) from None


def parse_headers(raw: str) -> dict[str, str]:
    """Stored headers are a JSON object of names to values."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def validate_headers(headers: dict) -> None:
    for name, value in headers.items():
        if not name or any(c in name for c in " :\r\n\t") or not name.isascii():
            raise ValidationError({"headers": f"{name!r} is not a valid header name."})
        if name.lower() in RESERVED_HEADERS:
            raise ValidationError({"headers": f"{name} is set by DockerForge and cannot be overridden."})
        if "\r" in value or "\n" in value:
            raise ValidationError({"headers": f"The value of {name} must be on one line."})
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValidationError({"headers": f"The value of {name} must be Latin-1 text."}) from None


# --- HTTP ------------------------------------------------------------------------------------

def _session() -> requests.Session:
    session = requests.Session()
    # The machine (and users) may set REQUESTS_CA_BUNDLE / proxies: the channel's own
    # settings must win, and a proxy would defeat the outbound-address check.
    session.trust_env = False
    return session


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def http_post(url: str, *, data: bytes, headers: dict[str, str]) -> SendResult:
    """POST once, with timeouts and no redirects; map the outcome to a TransportError."""
    hint = url_hint(url)
    timeout = (conf.get("CONNECT_TIMEOUT"), conf.get("READ_TIMEOUT"))
    try:
        with _session() as session:
            resp = session.post(url, data=data, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout:
        raise TransportError(f"timed out talking to {hint}") from None
    except requests.ConnectionError:
        # The exception's text holds the full URL (a secret): say only where.
        raise TransportError(f"could not connect to {hint}") from None
    except requests.RequestException as exc:
        raise TransportError(f"request to {hint} failed: {exc.__class__.__name__}", permanent=True) from None
    code = resp.status_code
    if 200 <= code < 300:
        return SendResult(code)
    detail = f"HTTP {code} from {hint}: {resp.text[:200].strip()}"
    if code == 429:
        raise TransportError(detail, code=code, retry_after=retry_after_seconds(resp.headers.get("Retry-After")))
    if code >= 500 or code == 408:
        raise TransportError(detail, code=code, retry_after=retry_after_seconds(resp.headers.get("Retry-After")))
    if 300 <= code < 400:
        raise TransportError(f"HTTP {code} from {hint}: redirects are not followed", permanent=True, code=code)
    raise TransportError(detail, permanent=True, code=code)


# --- webhook signatures ------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body): the timestamp is signed
    too, so a receiver rejecting old timestamps stops replays."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300,
                     now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


# --- built-in types ------------------------------------------------------------------------------

class WebhookChannel(ChannelType):
    name = "webhook"
    label = "Webhook (JSON, signed)"
    secret_fields = ("url", "signing_secret", "headers")
    url_help = "Receives a JSON POST signed with HMAC-SHA256 (X-DockerForge-Signature)."

    def clean(self, config, secrets):
        validate_http_url(secrets.get("url", ""))
        return {}

    def body(self, channel, message: dict) -> bytes:
        payload = {
            "version": "1",
            "channel": {"id": channel.pk, "name": channel.name},
            "team": channel.team_id,
            "subject": message.get("subject", ""),
            "severity": message.get("severity", "info"),
            "status": message.get("status", ""),
            "notifications": message.get("notifications", []),
            "test": bool(message.get("test")),
        }
        return json.dumps(payload, separators=(",", ":"), default=str).encode()

    def send(self, channel, message):
        body = self.body(channel, message)
        timestamp = str(int(time.time()))
        headers = {**parse_headers(channel.headers), "Content-Type": "application/json", TIMESTAMP_HEADER: timestamp}
        if channel.signing_secret:
            headers[SIGNATURE_HEADER] = sign(channel.signing_secret, timestamp, body)
        return http_post(channel.url, data=body, headers=headers)


class SlackChannel(ChannelType):
    name = "slack"
    label = "Slack (incoming webhook)"
    secret_fields = ("url",)
    url_help = "A Slack incoming-webhook URL (https://hooks.slack.com/services/...)."

    def clean(self, config, secrets):
        validate_http_url(secrets.get("url", ""))
        return {}

    def send(self, channel, message):
        body = {"text": message.get("subject", ""), "blocks": message.get("blocks") or []}
        return http_post(channel.url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


SMTP_SECURITY = (("starttls", "STARTTLS"), ("tls", "TLS (implicit, port 465)"), ("none", "None (plain)"))


class EmailChannel(ChannelType):
    """SMTP through Django's email backend: the channel's own server, or the installation's
    (EMAIL_* settings) when it names none."""

    name = "email"
    label = "Email (SMTP)"
    secret_fields = ("password",)
    config_fields = ("recipients", "from_email", "smtp_host", "smtp_port", "smtp_security", "smtp_username")

    def clean(self, config, secrets):
        recipients = config.get("recipients") or []
        if isinstance(recipients, str):
            recipients = [r.strip() for r in recipients.replace(";", ",").replace("\n", ",").split(",")]
        recipients = [r for r in (str(x).strip() for x in recipients) if r]
        if not recipients:
            raise ValidationError({"recipients": "Enter at least one address."})
        if len(recipients) > 50:
            raise ValidationError({"recipients": "At most 50 recipients."})
        for address in recipients:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError({"recipients": f"{address!r} is not an email address."}) from None
        from_email = str(config.get("from_email") or "").strip()
        if from_email:
            try:
                validate_email(email.utils.parseaddr(from_email)[1])
            except ValidationError:
                raise ValidationError({"from_email": "Not an email address."}) from None
        host = str(config.get("smtp_host") or "").strip()
        security = config.get("smtp_security") or "starttls"
        if security not in dict(SMTP_SECURITY):
            raise ValidationError({"smtp_security": "Choose starttls, tls or none."})
        port = config.get("smtp_port") or (465 if security == "tls" else 587)
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise ValidationError({"smtp_port": "Enter a port number."}) from None
        if not 1 <= port <= 65535:
            raise ValidationError({"smtp_port": "Enter a port between 1 and 65535."})
        if host:
            if len(host) > 253 or any(c in host for c in "/ @:") and not host.startswith("["):
                raise ValidationError({"smtp_host": "Enter a host name or address."})
            try:
                check_address(host, port)
            except OutboundAddressDenied as exc:
                raise ValidationError({"smtp_host": f"This address is not allowed: {exc}"}) from None
        username = str(config.get("smtp_username") or "").strip()[:200]
        return {"recipients": recipients, "from_email": from_email, "smtp_host": host, "smtp_port": port,
                "smtp_security": security, "smtp_username": username}

    def addresses(self, channel):
        host = channel.config.get("smtp_host")
        return [(host, channel.config.get("smtp_port"))] if host else []  # the installation's own server is trusted

    def connection(self, channel):
        cfg = channel.config
        timeout = conf.get("READ_TIMEOUT")
        if not cfg.get("smtp_host"):
            return get_connection(fail_silently=False, timeout=timeout)
        security = cfg.get("smtp_security", "starttls")
        return get_connection(
            "django.core.mail.backends.smtp.EmailBackend", fail_silently=False,
            host=cfg["smtp_host"], port=cfg.get("smtp_port"), username=cfg.get("smtp_username") or None,
            password=channel.password or None, use_tls=security == "starttls", use_ssl=security == "tls",
            timeout=timeout,
        )

    def send(self, channel, message):
        mail = EmailMultiAlternatives(
            subject=message.get("subject", "DockerForge notification")[:250],
            body=message.get("text", ""),
            from_email=channel.config.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            to=channel.config.get("recipients", []),
            connection=self.connection(channel),
        )
        if message.get("html"):
            mail.attach_alternative(message["html"], "text/html")
        try:
            mail.send()
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportError(f"SMTP authentication failed ({exc.smtp_code})", permanent=True, code=exc.smtp_code) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            permanent = all(c >= 500 for c in codes)
            raise TransportError(f"SMTP server refused recipients ({', '.join(map(str, codes))})", permanent=permanent,
                                 code=codes[0] if codes else None) from None
        except smtplib.SMTPNotSupportedError:
            raise TransportError("SMTP server does not support STARTTLS", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raise TransportError(f"SMTP error {exc.smtp_code}", permanent=exc.smtp_code >= 500, code=exc.smtp_code) from None
        except ssl.SSLError as exc:
            raise TransportError(f"TLS with the SMTP server failed: {exc.reason or exc.__class__.__name__}", permanent=True) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP connection failed: {exc.__class__.__name__}: {exc}") from None
        return SendResult(250)


BUILTIN_TYPES = (EmailChannel, SlackChannel, WebhookChannel)


def register_builtins() -> None:
    for cls in BUILTIN_TYPES:
        notification_channels.register(cls.name, cls)
