"""What a command runs with: parsed arguments, output, and (made on first use) the profile
and the API client."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from . import config
from .output import Output

if TYPE_CHECKING:
    from .client import Client


class Ctx:
    def __init__(self, args: argparse.Namespace, out: Output, settings: dict):
        self.args = args
        self.out = out
        self.settings = settings
        self._client: Client | None = None

    @property
    def json(self) -> bool:
        return self.out.json_mode

    @property
    def profile(self) -> config.Profile:
        return config.resolve(getattr(self.args, "profile", None), self.settings)

    @property
    def client(self) -> Client:
        if self._client is None:
            from .client import Client

            self._client = Client(self.profile, timeout=getattr(self.args, "timeout", 30.0) or 30.0)
        return self._client

    def team_param(self) -> dict:
        """`--team`, else the profile's default team, for lists and creates."""
        team = getattr(self.args, "team", None) or self.profile.team
        return {"team": team} if team else {}
