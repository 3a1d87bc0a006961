"""Tab completion (argcomplete, bash and zsh): subcommands and options come from the parser;
container names from the server, with the profile the command line names."""

from __future__ import annotations

import os

COMPLETION_TIMEOUT = 3.0
MAX_CANDIDATES = 200


def _client(parsed_args):
    from . import config
    from .client import Client

    profile = config.resolve(getattr(parsed_args, "profile", None))
    return Client(profile, timeout=COMPLETION_TIMEOUT)


def container_names(prefix: str, parsed_args=None, **_kwargs) -> list[str]:
    """Names of present containers starting with `prefix` (nothing when the server fails:
    completion must never print errors into the user's command line)."""
    try:
        client = _client(parsed_args)
        params = {"removed": "hide"}
        if prefix:
            params["q"] = prefix
        rows = client.list("containers/", params, limit=MAX_CANDIDATES)
    except Exception:  # noqa: BLE001
        return []
    names = sorted({r["name"] for r in rows if r["name"].startswith(prefix)})
    return names


def _named(path: str, field: str = "name"):
    def complete(prefix: str, parsed_args=None, **_kwargs) -> list[str]:
        try:
            rows = _client(parsed_args).list(path, {"search": prefix} if prefix else {}, limit=MAX_CANDIDATES)
        except Exception:  # noqa: BLE001
            return []
        return sorted({str(r[field]) for r in rows if str(r[field]).startswith(prefix)})

    return complete


host_names = _named("hosts/")
stack_names = _named("compose-projects/")
rule_names = _named("alert-rules/")
channel_names = _named("notification-channels/")


def autocomplete(parser) -> None:
    """Only when the shell asks (argcomplete's env var): normal runs skip the import."""
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)


def shellcode(shell: str) -> str:
    import argcomplete

    return argcomplete.shellcode(["dockerforge"], shell=shell)
