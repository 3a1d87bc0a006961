"""A small REST client for the DockerForge API (stdlib only: start-up time matters).

Every error becomes a CliError with the right exit code and a one-line message built from
the API's `{"error": {"code", "message", "details"}}` envelope."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

from .config import Profile
from .errors import CliError, NotFound, PermissionDenied, Unreachable, UsageError

API_PREFIX = "/api/v1/"
PAGE_SIZE = 500  # the server's maximum: fewer round trips for big lists
USER_AGENT = "dockerforge-cli"


def _is_loopback(host: str) -> bool:
    from ipaddress import ip_address

    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _opener(url: str):
    import urllib.request  # with http.client and ssl: imported on the first request only

    # Honour proxy variables, except for a server on this machine (a proxy cannot reach it).
    host = urllib.parse.urlsplit(url).hostname or ""
    proxies = {} if _is_loopback(host) else None
    return urllib.request.build_opener(urllib.request.ProxyHandler(proxies))


def error_message(body: dict | None, fallback: str) -> tuple[str, dict]:
    err = (body or {}).get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return fallback, {}
    message = str(err.get("message") or fallback)
    details = err.get("details") if isinstance(err.get("details"), dict) else {}
    if details:
        fields = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in details.items())
        message = f"{message} {fields}"
    return message, details


class LocalFileError(CliError):
    """A file on this machine could not be read or written (disk full, permission denied, ...):
    not the server's fault, so never reported as "cannot reach the server"."""


def local_file_error(exc: OSError, doing: str) -> LocalFileError:
    where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
    return LocalFileError(f"Cannot {doing} the local file{where}: {exc.strerror or exc}.")


def _guarded_sink(sink, doing: str = "write"):
    def write(chunk: bytes) -> None:
        try:
            sink(chunk)
        except OSError as exc:
            raise local_file_error(exc, doing) from None

    return write


def _guarded_body(data):
    """An iterable request body whose local read errors stay local errors (urllib would
    otherwise wrap them into a URLError, i.e. "cannot reach the server")."""
    if data is None or isinstance(data, bytes | bytearray):
        return data

    def chunks():
        iterator = iter(data)
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            except OSError as exc:
                raise local_file_error(exc, "read") from None
            yield chunk

    return chunks()


class Client:
    def __init__(self, profile: Profile, timeout: float = 30.0):
        if not profile.url:
            raise UsageError("No server configured: run `dockerforge login URL` or set DOCKERFORGE_URL.")
        self.profile = profile
        self.base = profile.url.rstrip("/")
        self.timeout = timeout
        self._opener = None

    @property
    def opener(self):
        if self._opener is None:
            self._opener = _opener(self.base)
        return self._opener

    # --- plumbing -----------------------------------------------------------------------------
    def url(self, path: str, params: dict | None = None) -> str:
        if path.startswith("http://") or path.startswith("https://"):
            url = path
        else:
            url = self.base + (path if path.startswith("/") else API_PREFIX + path)
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "", False)}
        if clean:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(clean, doseq=True)
        return url

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.profile.token:
            headers["Authorization"] = f"Token {self.profile.token}"
        return headers

    def request(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None,
                auth: bool = True, timeout: float | None = None, raw: bool = False, data=None,
                headers: dict | None = None, sink=None):
        """`body` is sent as JSON; `data` (bytes or an iterable of bytes, with `headers`) as is.
        `sink(chunk)` receives a successful answer's body as it streams (then None is returned)."""
        import socket
        import urllib.error
        import urllib.request

        extra = headers or {}
        headers = self.headers() if auth else {"Accept": "application/json", "User-Agent": USER_AGENT}
        headers.update(extra)
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url(path, params), data=_guarded_body(data), method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=timeout or self.timeout) as resp:
                if sink is not None:
                    write = _guarded_sink(sink)
                    while chunk := resp.read(1024 * 1024):
                        write(chunk)
                    return None
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, socket.timeout | TimeoutError):
                reason = "timed out"
            raise Unreachable(f"Cannot reach the DockerForge server at {self.base}: {reason}. Is it running?") from None
        if raw:
            return payload
        if not payload:
            return None
        try:
            return json.loads(payload)
        except ValueError:
            raise CliError(f"The server at {self.base} did not answer with JSON (is it a DockerForge server?).") from None

    def _http_error(self, exc) -> CliError:
        try:
            body = json.loads(exc.read() or b"null")
        except ValueError:
            body = None
        status = exc.code
        message, details = error_message(body, f"The server answered {status} {exc.reason}.")
        if status == 401:
            who = f"profile {self.profile.name!r}" if self.profile.name else "this token"
            return PermissionDenied(f"Authentication failed: the server refused the token of {who} "
                                    "(run `dockerforge login URL` again).")
        if status == 403:
            return PermissionDenied(f"Permission denied: {message}")
        if status == 404:
            return NotFound(message if body else f"Not found: {exc.url}")
        if status >= 500:
            return CliError(f"Server error {status}: {message}")
        return CliError(message, details)

    # --- verbs --------------------------------------------------------------------------------
    def get(self, path: str, params: dict | None = None, **kw):
        return self.request("GET", path, params=params, **kw)

    def post(self, path: str, body: dict | None = None, **kw):
        return self.request("POST", path, body=body if body is not None else {}, **kw)

    def delete(self, path: str, **kw):
        return self.request("DELETE", path, **kw)

    def iter_list(self, path: str, params: dict | None = None, limit: int | None = None) -> Iterator[dict]:
        """Every row of a paginated list (following `next`), at most `limit`."""
        page = self.get(path, {**(params or {}), "page_size": PAGE_SIZE})
        seen = 0
        while True:
            rows = page.get("results", []) if isinstance(page, dict) else page
            for row in rows:
                yield row
                seen += 1
                if limit is not None and seen >= limit:
                    return
            nxt = page.get("next") if isinstance(page, dict) else None
            if not nxt:
                return
            page = self.get(self._same_origin(nxt))

    def list(self, path: str, params: dict | None = None, limit: int | None = None) -> list[dict]:
        return list(self.iter_list(path, params, limit))

    def _same_origin(self, url: str) -> str:
        # Follow `next` on the server we talk to, whatever host name it built the link with.
        parts = urllib.parse.urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def ws_url(self, path: str, params: dict | None = None) -> str:
        url = self.url(path, params)
        return "wss://" + url[len("https://"):] if url.startswith("https://") else "ws://" + url[len("http://"):]
