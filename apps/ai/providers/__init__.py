"""Providers behind one interface, in the core `ai_providers` registry (plugins join through
the `dockerforge.ai_providers` entry-point group with a Provider subclass)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from apps.core.registries import ai_providers

from .base import Provider, ProviderError, Request, Result  # noqa: F401 - the public interface
from .claude import ClaudeProvider
from .gemini import GeminiProvider
from .offline import OfflineProvider

INSTALLATION_KEYS = {"claude": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}


def register_builtin() -> None:
    for cls in (OfflineProvider, ClaudeProvider, GeminiProvider):
        if cls.name not in ai_providers:
            ai_providers.register(cls.name, cls)


@dataclass
class Choice:
    provider: Provider
    model: str
    key_source: str  # "team" | "installation" | "none"
    note: str = ""


def choose(team_settings) -> Choice:
    """The provider a team's analysis uses: the team's key wins; the installation's key only
    when the team opted in; without a key, the offline provider."""
    name = team_settings.provider if team_settings is not None else "offline"
    if name not in ai_providers:
        return Choice(OfflineProvider(), OfflineProvider.default_model, "none", f"Unknown provider {name!r}: used the offline provider.")
    cls = ai_providers.get(name)
    model = (team_settings.model if team_settings is not None else "") or cls.default_model
    if not getattr(cls, "needs_key", True):
        return Choice(cls(), model, "none")
    key, source = team_settings.api_key, "team"
    if not key and team_settings.use_installation_key:
        key, source = getattr(settings, INSTALLATION_KEYS.get(name, ""), "") or "", "installation"
    if not key:
        return Choice(OfflineProvider(), OfflineProvider.default_model, "none", f"No API key for {name}: used the offline provider.")
    base_url = team_settings.base_url
    if base_url:
        from apps.core.outbound import check_address

        check_address(urlsplit(base_url).hostname or "", urlsplit(base_url).port)
    return Choice(cls(api_key=key, base_url=base_url), model, source)
