"""SSH transport: the private key comes as text (never ~/.ssh), the server's host key must
match the one pinned at registration (never auto-accepted), and `docker system dial-stdio`
runs on the remote side."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import urllib.parse

import paramiko
from docker.transport import SSHHTTPAdapter

_KEY_CLASSES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


class InvalidKey(ValueError):
    pass


def load_private_key(text: str) -> paramiko.PKey:
    """Parse an unencrypted private key (OpenSSH or PEM; ed25519, ECDSA or RSA)."""
    errors = []
    for cls in _KEY_CLASSES:
        try:
            return cls.from_private_key(io.StringIO(text.strip() + "\n"))
        except paramiko.PasswordRequiredException:
            raise InvalidKey("The private key is encrypted with a passphrase; give an unencrypted key.") from None
        except (paramiko.SSHException, ValueError, TypeError, IndexError) as exc:
            errors.append(str(exc))
    raise InvalidKey("Not a valid unencrypted OpenSSH or PEM private key (ed25519, ECDSA or RSA).")


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint: "SHA256:" + unpadded base64 of sha256(key blob)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def public_key_from_text(text: str) -> paramiko.PKey:
    """A pinned host key stored as "<type> <base64>"."""
    try:
        key_type, data = text.split()[:2]
        return paramiko.PKey.from_type_string(key_type, base64.b64decode(data))
    except (ValueError, paramiko.SSHException, TypeError) as exc:
        raise InvalidKey(f"Not a valid SSH public key: {exc}") from None


def fetch_ssh_host_key(host: str, port: int = 22, timeout: float = 5.0) -> tuple[str, str, str]:
    """The server's host key, for pinning: (key type, base64 blob, SHA256 fingerprint)."""
    from .errors import translate

    where = f"{host}:{port}"
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise translate(exc, where, timeout) from exc
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    try:
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
    except Exception as exc:  # noqa: BLE001 - mapped to a clear engine error
        raise translate(exc, where, timeout) from exc
    finally:
        transport.close()
        sock.close()
    return key.get_name(), key.get_base64(), fingerprint(key)


def known_host_name(host: str, port: int) -> str:
    # The name paramiko looks up in its host keys: "[host]:port" unless the port is 22.
    return host if port == 22 else f"[{host}]:{port}"


class PinnedSSHAdapter(SSHHTTPAdapter):
    """docker's SSH adapter with a text private key and a pinned host key.

    The base class reads ~/.ssh/config and the system known_hosts; this one reads neither.
    """

    def __init__(self, base_url: str, *, private_key: str, host_key: str, connect_timeout: float, **kwargs):
        self._private_key = private_key
        self._host_key = host_key
        self._connect_timeout = connect_timeout
        super().__init__(base_url, **kwargs)

    def _create_paramiko_client(self, base_url):
        url = urllib.parse.urlparse(base_url)
        port = url.port or 22
        client = paramiko.SSHClient()
        pinned = public_key_from_text(self._host_key)
        client.get_host_keys().add(known_host_name(url.hostname, port), pinned.get_name(), pinned)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.ssh_client = client
        self.ssh_params = {
            "hostname": url.hostname,
            "port": port,
            "username": url.username,
            "pkey": load_private_key(self._private_key),
            "look_for_keys": False,
            "allow_agent": False,
            "timeout": self._connect_timeout,
            "banner_timeout": self._connect_timeout,
            "auth_timeout": self._connect_timeout,
            "channel_timeout": self._connect_timeout,
        }
        self._private_key = ""  # the parsed key lives in ssh_params; drop the text
