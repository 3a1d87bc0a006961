"""TLS for tcp:// engines, built in memory.

The CA is loaded from text; the client certificate and key pass through a private (0700)
temp folder only while `load_cert_chain` reads them (Python's ssl has no in-memory API for
them), then the folder is removed. The adapter hands requests/urllib3 this one context and
ignores `verify`/`cert` from the session, so REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (or any
system bundle) can never replace the host's own CA.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile

from requests.adapters import HTTPAdapter


def build_ssl_context(ca_cert: str | None, client_cert: str | None, client_key: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the hostname
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_cert:
        ctx.load_verify_locations(cadata=ca_cert)
    else:
        ctx.load_default_certs()  # a publicly signed engine certificate
    if client_cert and client_key:
        with private_dir() as folder:
            cert_path = os.path.join(folder, "cert.pem")
            key_path = os.path.join(folder, "key.pem")
            _write_private(cert_path, client_cert)
            _write_private(key_path, client_key)
            ctx.load_cert_chain(cert_path, key_path)
    return ctx


class private_dir:
    """A 0700 temp folder removed on exit, even on error."""

    def __enter__(self) -> str:
        self.path = tempfile.mkdtemp(prefix="dockerforge-tls-")
        os.chmod(self.path, 0o700)
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


class ContextTLSAdapter(HTTPAdapter):
    """An HTTPAdapter that always uses one SSLContext, whatever the session's verify/cert say."""

    def __init__(self, ssl_context: ssl.SSLContext, **kwargs):
        self.ssl_context = ssl_context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self.ssl_context
        return super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, _ = super().build_connection_pool_key_attributes(request, True, None)
        return host_params, {"ssl_context": self.ssl_context}

    def cert_verify(self, conn, url, verify, cert):
        # The context already holds the CA and the client certificate; nothing from the
        # session (or the environment) may add to it.
        return None

    def __getstate__(self):  # pragma: no cover - adapters are never pickled here
        raise TypeError("ContextTLSAdapter is not picklable")
