"""SBOM extraction from a `docker save` stream, layer by layer, without Django.

The archive is read once in tarfile stream mode (`r|`): nothing is written to disk and no
layer is held in memory. Of each layer we keep only the package-database files (small) and its
whiteouts, keyed by the layer's path in the archive, because the manifest that tells the layer
order may come after the layers (legacy `manifest.json` + `<id>/layer.tar`, or the OCI layout
`index.json` + `blobs/sha256/...`). The layers are then replayed in order over an empty
filesystem: whiteouts (`.wh.NAME`) delete, opaque markers (`.wh..wh..opq`) empty a directory.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_DB_FILE = 64 * 1024 * 1024  # a dpkg status of a huge image is a few MB
JSON_BLOB_LIMIT = 4 * 1024 * 1024
OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")


@dataclass
class Package:
    type: str  # deb | apk | pypi | npm
    name: str
    version: str
    source_name: str = ""
    source_version: str = ""
    path: str = ""
    layer: str = ""

    @property
    def key(self) -> tuple:
        return (self.type, self.name, self.version, self.path)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class OSInfo:
    id: str = ""
    version_id: str = ""
    pretty_name: str = ""
    version_codename: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SBOM:
    os: OSInfo = field(default_factory=OSInfo)
    packages: list[Package] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)
    layout: str = ""  # "docker-archive" | "oci"

    def as_dict(self) -> dict:
        return {
            "os": self.os.as_dict(),
            "layout": self.layout,
            "layers": self.layers,
            "packages": [p.as_dict() for p in self.packages],
        }

    @classmethod
    def from_dict(cls, data: dict) -> SBOM:
        return cls(
            os=OSInfo(**data.get("os", {})),
            packages=[Package(**p) for p in data.get("packages", [])],
            layers=list(data.get("layers", [])),
            layout=data.get("layout", ""),
        )


class SBOMError(Exception):
    """The archive is not an image archive we understand."""


# --- which files of a layer matter ------------------------------------------------------

_NODE_PKG = re.compile(r"(?:^|/)node_modules/(?:@[^/]+/)?[^/@][^/]*/package\.json$")


def is_package_db(path: str) -> bool:
    """True for files whose contents describe installed packages (checked for every member)."""
    if path.endswith("/METADATA"):
        return path.endswith(".dist-info/METADATA")
    if path.endswith("PKG-INFO"):
        return path.endswith(".egg-info/PKG-INFO") or path.endswith(".egg-info")
    if path.endswith(".egg-info"):
        return True
    if path.endswith("package.json"):
        return "node_modules/" in path and bool(_NODE_PKG.search(path))
    return path in ("var/lib/dpkg/status", "lib/apk/db/installed") or path in OS_RELEASE_PATHS or path.startswith(
        "var/lib/dpkg/status.d/"
    )


def _norm(name: str) -> str:
    name = name.lstrip("./") if name.startswith("./") else name.lstrip("/")
    return posixpath.normpath(name) if name else ""


@dataclass
class LayerRecord:
    """What one layer contributes: package-db files (path -> bytes | ("link", target)),
    whiteouts (deleted paths) and opaque directories."""

    files: dict = field(default_factory=dict)
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)


def read_layer(fileobj) -> LayerRecord:
    record = LayerRecord()
    with tarfile.open(fileobj=fileobj, mode="r|*") as tar:
        for member in tar:
            path = _norm(member.name)
            if not path or path == ".":
                continue
            base = posixpath.basename(path)
            if base.startswith(WHITEOUT):
                parent = posixpath.dirname(path)
                if base == OPAQUE:
                    record.opaque.append(parent)
                else:
                    record.whiteouts.append(posixpath.join(parent, base[len(WHITEOUT) :]))
                continue
            if not is_package_db(path):
                continue
            if member.issym():
                record.files[path] = ("link", member.linkname)
            elif member.islnk():
                target = _norm(member.linkname)
                if target in record.files:
                    record.files[path] = record.files[target]
            elif member.isfile() and member.size <= MAX_DB_FILE:
                handle = tar.extractfile(member)
                record.files[path] = handle.read() if handle else b""
    return record


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def merge_layers(records: Iterable[LayerRecord]) -> dict:
    """Replay layers in order; returns the final {path: bytes | ("link", target)}."""
    fs: dict = {}
    for record in records:
        # Whiteouts and opaque markers hide what lower layers had, never this layer's files.
        for directory in record.opaque:
            for path in [p for p in fs if p != directory and _under(p, directory)]:
                del fs[path]
        for gone in record.whiteouts:
            for path in [p for p in fs if _under(p, gone)]:
                del fs[path]
        fs.update(record.files)
    return fs


# --- the outer archive ------------------------------------------------------------------

class _Prefixed(io.RawIOBase):
    """A reader that replays `head` before the rest of `raw` (to sniff a blob's type)."""

    def __init__(self, head: bytes, raw):
        self.head, self.raw = head, raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _looks_like_tar(head: bytes) -> bool:
    if head[:2] == b"\x1f\x8b":  # gzip
        return True
    return len(head) >= 262 and head[257:262] == b"ustar"


class ChunkReader(io.RawIOBase):
    """A file object over an iterator of byte chunks (the engine's `docker save` stream)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._buf:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buf = chunk
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def read_archive(fileobj) -> SBOM:
    """Parse an image archive (either layout) from a stream and return its SBOM."""
    layers: dict[str, LayerRecord] = {}
    documents: dict[str, object] = {}
    with tarfile.open(fileobj=fileobj, mode="r|") as outer:
        for member in outer:
            if not member.isfile():
                continue
            path = _norm(member.name)
            handle = outer.extractfile(member)
            if handle is None:
                continue
            if path.endswith("layer.tar"):
                layers[path] = read_layer(handle)
                continue
            head = handle.read(512)
            if _looks_like_tar(head):
                layers[path] = read_layer(io.BufferedReader(_Prefixed(head, handle), 1024 * 1024))
            elif member.size <= JSON_BLOB_LIMIT and head[:1] in (b"{", b"["):
                try:
                    documents[path] = json.loads(head + handle.read())
                except ValueError:
                    pass
    order, layout = layer_order(documents)
    missing = [p for p in order if p not in layers]
    if missing:
        raise SBOMError(f"the archive lacks layers its manifest names: {', '.join(missing[:3])}")
    fs = merge_layers(layers[p] for p in order)
    sbom = SBOM(layers=[_digest_of(p) for p in order], layout=layout)
    sbom.os = parse_os_release(_read_file(fs, "etc/os-release") or _read_file(fs, "usr/lib/os-release") or b"")
    sbom.packages = packages_from_fs(fs, layer_for=_layer_attribution(order, layers))
    return sbom


def scan_stream(chunks: Iterable[bytes]) -> SBOM:
    return read_archive(io.BufferedReader(ChunkReader(chunks), 1024 * 1024))


def scan_file(path: str) -> SBOM:
    with open(path, "rb") as fh:
        return read_archive(fh)


def _digest_of(path: str) -> str:
    if path.startswith("blobs/"):
        parts = path.split("/")
        return f"{parts[1]}:{parts[2]}" if len(parts) >= 3 else path
    return path.removesuffix("/layer.tar")


def _blob(documents: dict, digest: str):
    algorithm, _, hexpart = digest.partition(":")
    return documents.get(f"blobs/{algorithm}/{hexpart}")


def layer_order(documents: dict) -> tuple[list[str], str]:
    """The layer paths, bottom first, from manifest.json (legacy) or index.json (OCI)."""
    manifest = documents.get("manifest.json")
    if isinstance(manifest, list) and manifest:
        return [_norm(p) for p in manifest[0].get("Layers", [])], "docker-archive"
    index = documents.get("index.json")
    if isinstance(index, dict):
        doc = index
        for _ in range(4):  # an index may point at another index (multi-platform)
            if "layers" in doc:
                return [f"blobs/{layer['digest'].replace(':', '/', 1)}" for layer in doc["layers"]], "oci"
            entries = doc.get("manifests") or []
            if not entries:
                break
            doc = _blob(documents, entries[0]["digest"])
            if not isinstance(doc, dict):
                break
    raise SBOMError("not an image archive: no manifest.json and no usable index.json")


def _layer_attribution(order: list[str], layers: dict[str, LayerRecord]):
    """path -> digest of the last layer that wrote it."""
    owner: dict[str, str] = {}
    for path in order:
        for name in layers[path].files:
            owner[name] = _digest_of(path)
    return owner


def _read_file(fs: dict, path: str, depth: int = 0) -> bytes | None:
    value = fs.get(path)
    if isinstance(value, tuple) and depth < 8:
        target = value[1]
        target = _norm(target) if target.startswith("/") else posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        return _read_file(fs, target, depth + 1)
    return value if isinstance(value, bytes) else None


# --- package databases ------------------------------------------------------------------

def parse_os_release(data: bytes) -> OSInfo:
    values = {}
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    return OSInfo(
        id=values.get("ID", ""),
        version_id=values.get("VERSION_ID", ""),
        pretty_name=values.get("PRETTY_NAME", ""),
        version_codename=values.get("VERSION_CODENAME", ""),
    )


def _stanzas(text: str) -> Iterator[dict]:
    """RFC 822-style paragraphs (dpkg status, Python METADATA headers)."""
    fields: dict = {}
    last = None
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields, last = {}, None
        elif line[0] in " \t":
            if last:
                fields[last] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            last = key.strip()
            fields[last] = value.strip()
    if fields:
        yield fields


def parse_dpkg(text: str, path: str, layer: str, require_status: bool = True) -> list[Package]:
    out = []
    for st in _stanzas(text):
        name, version = st.get("Package"), st.get("Version")
        if not name or not version:
            continue
        if require_status and "Status" in st and not st["Status"].endswith(" installed"):
            continue
        source, source_version = name, version
        if st.get("Source"):
            source, _, rest = st["Source"].partition(" ")
            match = re.search(r"\(([^)]+)\)", rest)
            source_version = match.group(1) if match else version
        out.append(Package("deb", name, version, source, source_version, path, layer))
    return out


def parse_apk(text: str, path: str, layer: str) -> list[Package]:
    out = []
    for block in re.split(r"\n\s*\n", text):
        fields = {}
        for line in block.splitlines():
            if len(line) > 2 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        if "P" in fields and "V" in fields:
            origin = fields.get("o", fields["P"])
            out.append(Package("apk", fields["P"], fields["V"], origin, fields["V"], path, layer))
    return out


def parse_python_metadata(text: str, path: str, layer: str) -> list[Package]:
    header = next(_stanzas(text.split("\n\n", 1)[0] + "\n"), {})
    name, version = header.get("Name"), header.get("Version")
    return [Package("pypi", name, version, path=path, layer=layer)] if name and version else []


def parse_package_json(data: bytes, path: str, layer: str) -> list[Package]:
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return []
    name, version = (doc.get("name"), doc.get("version")) if isinstance(doc, dict) else (None, None)
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return []
    return [Package("npm", name, version, path=path, layer=layer)]


def packages_from_fs(fs: dict, layer_for: dict | None = None) -> list[Package]:
    layer_for = layer_for or {}
    packages: list[Package] = []
    for path in sorted(fs):
        data = _read_file(fs, path)
        if data is None or path in OS_RELEASE_PATHS:
            continue
        layer = layer_for.get(path, "")
        if path == "var/lib/dpkg/status":
            packages += parse_dpkg(data.decode("utf-8", "replace"), path, layer)
        elif path.startswith("var/lib/dpkg/status.d/"):
            if not path.endswith(".md5sums"):
                packages += parse_dpkg(data.decode("utf-8", "replace"), path, layer, require_status=False)
        elif path == "lib/apk/db/installed":
            packages += parse_apk(data.decode("utf-8", "replace"), path, layer)
        elif path.endswith(("METADATA", "PKG-INFO", ".egg-info")):
            packages += parse_python_metadata(data.decode("utf-8", "replace"), path, layer)
        elif path.endswith("package.json"):
            packages += parse_package_json(data, path, layer)
    return _dedupe(packages)


def _dedupe(packages: list[Package]) -> list[Package]:
    seen, out = set(), []
    for p in packages:
        key = (p.type, p.name, p.version) if p.type in ("deb", "apk") else p.key
        if key not in seen:
            seen.add(key)
            out.append(p)
    return sorted(out, key=lambda p: (p.type, p.name.lower(), p.version, p.path))


# --- ecosystems and package URLs --------------------------------------------------------

def os_ecosystem(os_info: OSInfo) -> str:
    """The OSV ecosystem of the OS packages: "Debian:12", "Alpine:v3.19", "Ubuntu:22.04"."""
    if os_info.id == "debian" and os_info.version_id:
        return f"Debian:{os_info.version_id.split('.')[0]}"
    if os_info.id == "alpine" and os_info.version_id:
        return "Alpine:v" + ".".join(os_info.version_id.split(".")[:2])
    if os_info.id == "ubuntu" and os_info.version_id:
        return f"Ubuntu:{os_info.version_id}"
    return os_info.id.capitalize() if os_info.id else ""


def ecosystem_of(package: Package, os_info: OSInfo) -> str:
    if package.type == "deb":
        return os_ecosystem(os_info) if os_info.id in ("debian", "ubuntu") else "Debian"
    if package.type == "apk":
        return os_ecosystem(os_info) if os_info.id == "alpine" else "Alpine"
    return {"pypi": "PyPI", "npm": "npm"}[package.type]


def purl(package: Package, os_info: OSInfo) -> str:
    from packageurl import PackageURL

    if package.type == "deb":
        return PackageURL("deb", os_info.id or "debian", package.name, package.version,
                          {"distro": f"{os_info.id}-{os_info.version_id}"} if os_info.id else None).to_string()
    if package.type == "apk":
        return PackageURL("apk", os_info.id or "alpine", package.name, package.version).to_string()
    if package.type == "npm" and package.name.startswith("@"):
        scope, _, name = package.name.partition("/")
        return PackageURL("npm", scope, name, package.version).to_string()
    return PackageURL(package.type, None, package.name, package.version).to_string()
