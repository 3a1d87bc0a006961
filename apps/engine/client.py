"""The client factory: one place that knows how to reach an engine over unix://, tcp://
(plain or TLS) and ssh://. Every other app gets a `docker.DockerClient` from `connect()`
and never imports `docker` itself (DESIGN.md)."""

from __future__ import annotations

import urllib.parse

import docker
from django.conf import settings

from .errors import PermanentEngineError, translate
from .ssh import PinnedSSHAdapter, fetch_ssh_host_key  # noqa: F401 - re-exported for callers
from .tls import ContextTLSAdapter, build_ssl_context

# A placeholder address for APIClient's constructor: with an explicit API version it makes
# no connection, and the real transport is mounted afterwards.
_UNCONNECTED = "tcp://127.0.0.1:9"


def connect(
    url: str,
    *,
    tls_ca: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    ssh_private_key: str | None = None,
    ssh_host_key: str | None = None,
    timeout: float | None = None,
    connect_timeout: float | None = None,
    api_version: str | None = None,
    pool_size: int | None = None,
) -> docker.DockerClient:
    """A DockerClient for `url`. Raises Transient/PermanentEngineError (never library errors).

    The API version is always explicit: with "auto" the SDK would call the engine inside
    its constructor, before the transport could be fixed up.
    """
    timeout = settings.ENGINE_TIMEOUT if timeout is None else timeout
    connect_timeout = min(timeout, settings.ENGINE_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout)
    api_version = api_version or settings.ENGINE_API_VERSION
    pool_size = pool_size or settings.ENGINE_POOL_SIZE
    parsed = urllib.parse.urlparse(url)
    where = describe(url)
    try:
        if parsed.scheme == "unix":
            client = docker.DockerClient(base_url=url, version=api_version, timeout=timeout, max_pool_size=pool_size)
        elif parsed.scheme == "tcp":
            client = _tcp_client(parsed, tls_ca, tls_cert, tls_key, api_version, timeout, pool_size)
        elif parsed.scheme == "ssh":
            if not ssh_private_key or not ssh_host_key:
                raise PermanentEngineError(f"{where}: an ssh:// host needs a private key and a pinned host key")
            client = _ssh_client(url, ssh_private_key, ssh_host_key, api_version, timeout, connect_timeout, pool_size)
        else:
            raise PermanentEngineError(f"Unsupported engine URL scheme {parsed.scheme!r}: use unix://, tcp:// or ssh://")
    except Exception as exc:  # noqa: BLE001 - every failure becomes an EngineError
        raise translate(exc, where, connect_timeout) from exc
    # requests would otherwise let REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override `verify` and
    # HTTP(S)_PROXY route engine traffic: the host's own settings must win.
    client.api.trust_env = False
    client.api._dockerforge_where = where
    return client


def describe(url: str) -> str:
    """The engine's address for messages, without credentials."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "unix":
        return parsed.path or url
    host = parsed.hostname or "?"
    return f"{host}:{parsed.port}" if parsed.port else host


def _tcp_client(parsed, tls_ca, tls_cert, tls_key, api_version, timeout, pool_size) -> docker.DockerClient:
    use_tls = bool(tls_ca or tls_cert or tls_key)
    port = parsed.port or (2376 if use_tls else 2375)
    host = parsed.hostname if ":" not in (parsed.hostname or "") else f"[{parsed.hostname}]"
    if not use_tls:
        return docker.DockerClient(base_url=f"tcp://{host}:{port}", version=api_version, timeout=timeout, max_pool_size=pool_size)
    client = docker.DockerClient(base_url=f"https://{host}:{port}", version=api_version, timeout=timeout, max_pool_size=pool_size)
    adapter = ContextTLSAdapter(build_ssl_context(tls_ca, tls_cert, tls_key), pool_maxsize=pool_size)
    client.api.mount("https://", adapter)
    client.api._custom_adapter = adapter
    return client


def _ssh_client(url, private_key, host_key, api_version, timeout, connect_timeout, pool_size) -> docker.DockerClient:
    # Build the APIClient without a transport that connects, then mount the pinned adapter
    # (its constructor opens the SSH session: errors surface here, mapped by the caller).
    client = docker.DockerClient(base_url=_UNCONNECTED, version=api_version, timeout=timeout)
    adapter = PinnedSSHAdapter(
        url,
        private_key=private_key,
        host_key=host_key,
        connect_timeout=connect_timeout,
        timeout=timeout,
        max_pool_size=pool_size,
    )
    api = client.api
    api.mount("http+docker://ssh", adapter)
    api._unmount("http://", "https://")
    api._custom_adapter = adapter
    api.base_url = "http+docker://ssh"
    return client
