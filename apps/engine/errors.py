"""Engine errors callers can act on: retry a transient one, show a permanent one.

`translate()` turns whatever docker/requests/paramiko/socket raised into one of the two,
with a message a person can act on (never a stack of library internals).
"""

from __future__ import annotations

import contextlib
import socket
import ssl


class EngineError(Exception):
    """Base of every error the engine package raises."""

    permanent = False

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    def __str__(self) -> str:
        return self.message


class TransientEngineError(EngineError):
    """Worth retrying: timeouts, refused connections, engine 5xx."""

    permanent = False


class PermanentEngineError(EngineError):
    """Retrying will not help until someone changes something: TLS, auth, 4xx, host key."""

    permanent = True


def _chain(exc: BaseException):
    """exc and every exception it was raised from or during, outermost first."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__ or _wrapped(exc)


def _wrapped(exc: BaseException):
    # requests/urllib3 keep the underlying error in args or `reason` rather than __cause__.
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return reason
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, BaseException):
            return arg
    return None


def _tls_message(text: str, where: str) -> str:
    lowered = text.lower()
    if "certificate_verify_failed" in lowered or "certificate verify failed" in lowered:
        if "hostname" in lowered or "ip address mismatch" in lowered or "doesn't match" in lowered:
            return f"TLS verification failed: the server certificate of {where} is not valid for this address"
        if "expired" in lowered:
            return f"TLS verification failed: the server certificate of {where} has expired"
        return "TLS verification failed: the server certificate is not signed by the host's CA"
    if "certificate required" in lowered or "bad certificate" in lowered or "unknown ca" in lowered:
        return f"TLS handshake refused by {where}: the engine did not accept the client certificate"
    if "wrong version number" in lowered or "record layer failure" in lowered or "http request" in lowered:
        return f"TLS handshake with {where} failed: the port does not speak TLS (plain tcp:// engine?)"
    return f"TLS handshake with {where} failed: {text}"


def translate(exc: BaseException, where: str = "the engine", timeout: float | None = None) -> EngineError:
    """Map any exception from talking to an engine to a Transient/Permanent EngineError."""
    if isinstance(exc, EngineError):
        return exc
    import docker.errors
    import paramiko
    import requests.exceptions

    after = f" after {timeout:g} s" if timeout else ""
    chain = list(_chain(exc))
    for err in chain:
        if isinstance(err, paramiko.BadHostKeyException):
            from .ssh import fingerprint

            return PermanentEngineError(
                f"SSH host key mismatch for {where}: the server presented {fingerprint(err.key)} but "
                f"{fingerprint(err.expected_key)} is pinned. If the server's key really changed, re-pin it."
            )
        if isinstance(err, paramiko.AuthenticationException):
            return PermanentEngineError(f"SSH authentication to {where} failed: the server refused the private key")
        if isinstance(err, paramiko.SSHException) and "known_hosts" in str(err):
            return PermanentEngineError(f"SSH host key of {where} is not pinned: register the host again to pin it")
        if isinstance(err, ssl.SSLError | requests.exceptions.SSLError) and not isinstance(err, ssl.SSLZeroReturnError):
            return PermanentEngineError(_tls_message(str(err), where))
    for err in chain:
        if isinstance(err, docker.errors.APIError) and err.response is not None:
            return _from_status(err.response.status_code, err.explanation or str(err), where)
        if isinstance(err, ConnectionRefusedError) or "connection refused" in str(err).lower():
            return TransientEngineError(f"Connection refused by {where}: is the engine listening there?")
        if isinstance(err, socket.timeout | TimeoutError | requests.exceptions.Timeout):
            return TransientEngineError(f"Timed out talking to {where}{after}")
        if "timed out" in str(err).lower():
            return TransientEngineError(f"Timed out talking to {where}{after}")
        if isinstance(err, FileNotFoundError):
            return TransientEngineError(f"No engine socket at {where}: is the engine running?")
        if isinstance(err, PermissionError):
            return PermanentEngineError(f"Permission denied opening {where}")
        if isinstance(err, socket.gaierror):
            return TransientEngineError(f"Cannot resolve the address of {where}: {err.strerror or err}")
        if isinstance(err, paramiko.ssh_exception.NoValidConnectionsError):
            return TransientEngineError(f"Cannot connect to SSH at {where}: {err.strerror or err}")
    for err in chain:
        if isinstance(err, paramiko.SSHException | EOFError):
            return TransientEngineError(f"SSH session with {where} failed: {err or 'connection closed'}")
        if isinstance(err, requests.exceptions.ConnectionError | ConnectionError | OSError):
            return TransientEngineError(f"Cannot reach {where}: {_short(err)}")
        if isinstance(err, docker.errors.DockerException):
            return PermanentEngineError(f"Docker client error for {where}: {err}")
    return PermanentEngineError(f"Unexpected error talking to {where}: {exc.__class__.__name__}: {_short(exc)}")


def _from_status(status: int, explanation: str, where: str) -> EngineError:
    if status >= 500:
        return TransientEngineError(f"The engine at {where} answered {status}: {explanation}", status_code=status)
    if status == 404:
        return EngineObjectNotFound(f"Not found on {where}: {explanation}", status_code=status)
    if status in (401, 403):
        return PermanentEngineError(f"The engine at {where} refused access ({status}): {explanation}", status_code=status)
    return PermanentEngineError(f"The engine at {where} answered {status}: {explanation}", status_code=status)


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class EngineObjectNotFound(PermanentEngineError):
    """The engine answered 404: the container/image/volume/network is not there (any more)."""


@contextlib.contextmanager
def guard(where: str = "the engine", timeout: float | None = None):
    """Wrap calls on a client from `connect()`: whatever the SDK raises leaves as an EngineError."""
    try:
        yield
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - translated, with the original chained
        raise translate(exc, where, timeout) from exc
