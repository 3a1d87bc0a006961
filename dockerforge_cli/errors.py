"""Errors a command ends with, each carrying its exit code (0 ok, 1 failure, 2 usage,
3 not found, 4 permission denied)."""

from __future__ import annotations

OK, FAILURE, USAGE, NOT_FOUND, DENIED = 0, 1, 2, 3, 4
INTERRUPTED = 130  # Ctrl-C (a detached operation keeps running)


class CliError(Exception):
    exit_code = FAILURE

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class UsageError(CliError):
    exit_code = USAGE


class NotFound(CliError):
    exit_code = NOT_FOUND


class PermissionDenied(CliError):
    exit_code = DENIED


class Unreachable(CliError):
    """The server did not answer (down, wrong URL, timeout)."""
