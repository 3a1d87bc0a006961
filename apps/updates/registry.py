"""A small Docker Registry HTTP API v2 client: manifest digests (HEAD) and tag lists, with
Basic or Bearer-token auth from the team's RegistryCredential.

One `RegistryClient` serves one check round: it caches tokens per (registry, repository),
tag lists per repository and digests per tag, so checking 100 containers of one image costs
a handful of requests. It is a `requests` session with trust_env=False (no proxy or CA
variables of the server's environment apply) and explicit timeouts; every registry address
is checked against the outbound policy before the first request.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import requests
from django.conf import settings

from apps.containers.registries import DOCKER_HUB, normalize_registry, registry_of
from apps.core.outbound import OutboundAddressDenied, check_address

HUB_API = "registry-1.docker.io"
MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
])
MAX_TAG_PAGES = 20
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """A registry could not answer; the message is for people (no secrets in it)."""


@dataclass(frozen=True)
class Reference:
    registry: str  # normalized, "docker.io" for Docker Hub
    repository: str  # "library/nginx", "demo/app"
    tag: str
    digest: str = ""

    @property
    def name(self) -> str:
        """The reference without tag/digest, as a person writes it."""
        if self.registry == DOCKER_HUB:
            return self.repository.removeprefix("library/")
        return f"{self.registry}/{self.repository}"

    def with_tag(self, tag: str) -> str:
        return f"{self.name}:{tag}"


def parse_reference(ref: str) -> Reference:
    """"127.0.0.1:5000/demo/app:1.0" -> Reference; Docker's defaults (hub, library/, latest)."""
    ref = (ref or "").strip()
    name, _, digest = ref.partition("@")
    registry = registry_of(name)
    path = name.split("/", 1)[1] if registry != DOCKER_HUB or name.split("/", 1)[0] in ("docker.io", "index.docker.io") else name
    repository, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not repository:
        raise RegistryError(f"{ref!r} is not an image reference")
    return Reference(registry, repository, tag or ("" if digest else "latest"), digest)


def _is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RegistryClient:
    def __init__(self, team_id: int | None, *, timeout: float | None = None):
        self.team_id = team_id
        self.timeout = timeout or settings.UPDATES_REGISTRY_TIMEOUT
        self.session = requests.Session()
        self.session.trust_env = False  # the server's proxy / CA variables must not apply
        self.requests = 0
        self._tokens: dict[tuple[str, str], str] = {}
        self._tags: dict[tuple[str, str], list[str]] = {}
        self._digests: dict[tuple[str, str, str], str] = {}
        self._checked: set[str] = set()
        self._creds: dict[str, tuple[str, str] | None] = {}

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- addresses and credentials ---------------------------------------------------------

    def base_url(self, registry: str) -> str:
        host = HUB_API if registry == DOCKER_HUB else registry
        if registry not in self._checked and registry != DOCKER_HUB:
            hostname, _, port = host.rpartition(":") if not host.endswith("]") and host.count(":") == 1 else (host, "", "")
            try:
                check_address(hostname or host, int(port) if port.isdigit() else None)
            except OutboundAddressDenied as exc:
                raise RegistryError(f"The registry {registry} is not allowed: {exc}") from None
            self._checked.add(registry)
        hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        insecure = _is_loopback(hostname) or registry in settings.UPDATES_INSECURE_REGISTRIES
        return f"{'http' if insecure else 'https'}://{host}"

    def credentials(self, registry: str) -> tuple[str, str] | None:
        if registry not in self._creds:
            from apps.containers.models import RegistryCredential

            cred = RegistryCredential.objects.filter(team_id=self.team_id, registry=normalize_registry(registry)).first() if self.team_id else None
            self._creds[registry] = (cred.username, cred.password) if cred else None
        return self._creds[registry]

    # --- requests with auth -------------------------------------------------------------------

    def _send(self, method: str, url: str, headers: dict, auth=None) -> requests.Response:
        self.requests += 1
        try:
            return self.session.request(method, url, headers=headers, auth=auth, timeout=self.timeout, allow_redirects=True)
        except requests.RequestException as exc:
            raise RegistryError(f"Cannot reach {url.split('/v2/')[0]}: {exc.__class__.__name__}") from None

    def _token(self, registry: str, repository: str, challenge: str) -> str:
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = params.pop("realm", "")
        if not realm:
            raise RegistryError(f"{registry} asked for a token without saying where to get it")
        realm_host = requests.utils.urlparse(realm).hostname or ""
        if registry != DOCKER_HUB:
            try:
                check_address(realm_host)
            except OutboundAddressDenied as exc:
                raise RegistryError(f"The token service of {registry} is not allowed: {exc}") from None
        params.setdefault("scope", f"repository:{repository}:pull")
        self.requests += 1
        try:
            resp = self.session.get(realm, params=params, auth=self.credentials(registry), timeout=self.timeout)
        except requests.RequestException as exc:
            raise RegistryError(f"Cannot reach the token service of {registry}: {exc.__class__.__name__}") from None
        if resp.status_code != 200:
            raise RegistryError(f"The token service of {registry} refused the credentials (HTTP {resp.status_code})")
        body = resp.json()
        return body.get("token") or body.get("access_token") or ""

    def request(self, method: str, registry: str, repository: str, path: str, headers: dict | None = None) -> requests.Response:
        url = f"{self.base_url(registry)}/v2/{repository}/{path}"
        headers = dict(headers or {})
        key = (registry, repository)
        if self._tokens.get(key):
            headers["Authorization"] = f"Bearer {self._tokens[key]}"
        resp = self._send(method, url, headers, auth=None if key in self._tokens else self.credentials(registry))
        if resp.status_code == 401:
            challenge = resp.headers.get("WWW-Authenticate", "")
            if challenge.lower().startswith("bearer"):
                self._tokens[key] = self._token(registry, repository, challenge)
                headers["Authorization"] = f"Bearer {self._tokens[key]}"
                resp = self._send(method, url, headers)
            elif challenge.lower().startswith("basic") and self.credentials(registry) and key not in self._tokens:
                resp = self._send(method, url, headers, auth=self.credentials(registry))
        if resp.status_code == 401:
            raise RegistryError(f"{registry} refused access to {repository}: add or fix the team's registry credential")
        if resp.status_code == 404:
            raise RegistryError(f"{registry} has no {repository}:{path.rsplit('/', 1)[-1]}")
        if resp.status_code >= 400:
            raise RegistryError(f"{registry} answered HTTP {resp.status_code} for {repository}")
        return resp

    # --- what checks use ----------------------------------------------------------------------

    def digest(self, ref: Reference, tag: str | None = None) -> str:
        """The manifest digest the tag points at (HEAD; GET when a registry omits the header)."""
        tag = tag or ref.tag
        key = (ref.registry, ref.repository, tag)
        if key not in self._digests:
            headers = {"Accept": MANIFEST_TYPES}
            resp = self.request("HEAD", ref.registry, ref.repository, f"manifests/{tag}", headers)
            digest = resp.headers.get("Docker-Content-Digest", "")
            if not digest:
                import hashlib

                resp = self.request("GET", ref.registry, ref.repository, f"manifests/{tag}", headers)
                digest = resp.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(resp.content).hexdigest()
            self._digests[key] = digest
        return self._digests[key]

    def tags(self, ref: Reference) -> list[str]:
        key = (ref.registry, ref.repository)
        if key not in self._tags:
            tags: list[str] = []
            path = "tags/list?n=1000"
            for _ in range(MAX_TAG_PAGES):
                resp = self.request("GET", ref.registry, ref.repository, path)
                tags.extend((resp.json() or {}).get("tags") or [])
                link = resp.headers.get("Link", "")
                match = re.search(r"<[^>]*/v2/[^>]*/(tags/list\?[^>]*)>", link)
                if not match:
                    break
                path = match.group(1)
            self._tags[key] = tags
        return self._tags[key]
