# PYTHON_ARGCOMPLETE_OK
"""Entry point of the `dockerforge` console script: a client of the DockerForge REST API.

It imports no Django (the one exception, `compose validate`, imports the server's pure
validation module lazily). Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 permission
denied, 130 interrupted (an operation being followed keeps running)."""

from __future__ import annotations

import argparse
import sys

from . import config
from .errors import INTERRUPTED, USAGE, CliError

COMMON = argparse.ArgumentParser(add_help=False)
# SUPPRESS: an option given before the command survives the subcommand's own parsing.
COMMON.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="Machine-readable output")
COMMON.add_argument("--profile", default=argparse.SUPPRESS, help="Profile to use (see `config ls`)")
COMMON.add_argument("--color", choices=("auto", "always", "never"), default=argparse.SUPPRESS,
                    help="Colours (auto: only on a terminal; NO_COLOR honoured)")
COMMON.add_argument("--timeout", type=float, default=argparse.SUPPRESS, help="Seconds to wait for the server (30)")


class VersionAction(argparse.Action):
    """--version without reading package metadata on every start (it is slow)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="Show the client version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from .commands.general import client_version

        sys.stdout.write(f"dockerforge {client_version()}\n")
        parser.exit()


def add_command(sub, name: str, func, help_text: str, aliases=()) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text, aliases=list(aliases), parents=[COMMON])
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    from .commands import (
        alerts,
        analyze,
        backups,
        chat,
        compose,
        containers,
        fixes,
        general,
        hosts,
        monitor,
        notify,
        resources,
        security,
        updates,
    )

    parser = argparse.ArgumentParser(
        prog="dockerforge", parents=[COMMON],
        description="DockerForge command-line client. Start with `dockerforge login URL`.",
        epilog="Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 permission denied.",
    )
    parser.add_argument("--version", action=VersionAction)
    # No set_defaults for the common options: it would change the actions shared with every
    # subparser (parents=) and undo an option given before the command.
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    general.register(sub, add_command)
    hosts.register(sub, add_command)
    containers.register(sub, add_command)
    resources.register(sub, add_command)
    compose.register(sub, add_command)
    security.register(sub, add_command)
    backups.register(sub, add_command)
    monitor.register(sub, add_command)
    analyze.register(sub, add_command)
    fixes.register(sub, add_command)
    chat.register(sub, add_command)
    updates.register(sub, add_command)
    alerts.register(sub, add_command)
    notify.register(sub, add_command)
    return parser


def _report(out, exc: CliError, json_mode: bool) -> None:
    out.error(exc.message)
    if json_mode:
        out.json({"error": {"message": exc.message, "exit_code": exc.exit_code, "details": exc.details}})


def main(argv: list[str] | None = None) -> int:
    from .completion import autocomplete
    from .context import Ctx
    from .operations import Detached
    from .output import Output

    parser = build_parser()
    autocomplete(parser)
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return USAGE
    try:
        settings = config.load()
    except config.ConfigError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return USAGE
    json_mode = bool(getattr(args, "json", False)) or config.setting(settings, "output", "table") == "json"
    out = Output(json_mode, getattr(args, "color", None) or config.setting(settings, "color", "auto"))
    try:
        return int(args.func(Ctx(args, out, settings)) or 0)
    except Detached as exc:
        out.info(f"Detached from operation {exc.op_id}; it keeps running. "
                 f"Reattach with `dockerforge operations watch {exc.op_id}`.")
        return INTERRUPTED
    except config.ConfigError as exc:
        out.error(str(exc))
        return USAGE
    except CliError as exc:
        _report(out, exc, json_mode)
        return exc.exit_code
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()  # `dockerforge ps | head`: no traceback
        return 0


if __name__ == "__main__":
    sys.exit(main())
