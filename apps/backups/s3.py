"""S3-compatible storage (AWS S3, MinIO, Ceph RGW, moto, ...) as a backup storage plugin.

Registered through the entry-point group `dockerforge.backup_storage` (pyproject.toml), like a
third-party plugin would be. Configured by a team's StorageTarget (kind "s3"): endpoint URL,
bucket, region, access key id, secret key (stored encrypted), prefix.

Writes stream as a multipart upload (8 MiB parts, so memory stays bounded); the object only
appears when the upload completes, and a failed write aborts it: a reader never sees half an
artifact. The endpoint passes the installation's outbound-address policy before any request.
Error messages name the bucket and the operation, never a credential.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from urllib.parse import urlparse

from apps.core.outbound import OutboundAddressDenied, check_address

from .storage import READ_CHUNK, Storage, StorageError

BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
PART_SIZE = 8 * 1024 * 1024  # S3's minimum part is 5 MiB (all but the last)
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 120


def check_endpoint(url: str) -> None:
    """The endpoint's scheme and address are acceptable (outbound policy); StorageError if not."""
    parsed = urlparse(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise StorageError("The endpoint must be an http:// or https:// URL.")
    try:
        check_address(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80))
    except OutboundAddressDenied as exc:
        raise StorageError(f"The endpoint is not allowed: {exc}") from None


class S3Storage(Storage):
    name = "s3"

    def __init__(self, *, endpoint_url: str, bucket: str, region: str, access_key_id: str, secret_key: str, prefix: str = ""):
        check_endpoint(endpoint_url)
        if not bucket:
            raise StorageError("The storage target names no bucket.")
        self.endpoint_url, self.bucket, self.prefix = endpoint_url, bucket, prefix.strip("/")
        self._credentials = (access_key_id, secret_key)
        self.region = region or "us-east-1"
        self._client = None

    @classmethod
    def validate(cls, fields: dict) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        try:
            check_endpoint(fields.get("endpoint_url") or "")
        except StorageError as exc:
            errors["endpoint_url"] = [str(exc)]
        if not BUCKET_RE.match(fields.get("bucket") or ""):
            errors["bucket"] = ["3-63 lowercase letters, digits, dots and hyphens."]
        for name in ("access_key_id", "secret_key"):
            if not fields.get(name):
                errors[name] = ["This field is required for S3."]
        return errors

    @classmethod
    def from_target(cls, target) -> S3Storage:
        return cls(endpoint_url=target.endpoint_url, bucket=target.bucket, region=target.region,
                   access_key_id=target.access_key_id, secret_key=target.secret_key, prefix=target.prefix)

    def __repr__(self) -> str:  # never the credentials
        return f"<S3Storage {self.endpoint_url} bucket={self.bucket} prefix={self.prefix!r}>"

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            key_id, secret = self._credentials
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint_url, region_name=self.region, aws_access_key_id=key_id,
                aws_secret_access_key=secret,
                config=Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT, retries={"max_attempts": 3},
                              s3={"addressing_style": "path"}),
            )
        return self._client

    def key(self, name: str) -> str:
        parts = [p for p in name.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise ValueError(f"not a storage name: {name!r}")
        return "/".join([self.prefix, *parts] if self.prefix else parts)

    @contextlib.contextmanager
    def _errors(self, what: str):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise StorageError(f"S3 {what} in bucket {self.bucket}: {code}") from None
        except BotoCoreError as exc:
            raise StorageError(f"S3 {what} at {urlparse(self.endpoint_url).netloc}: {exc.__class__.__name__}") from None

    @contextlib.contextmanager
    def writer(self, name: str):
        upload = _Upload(self, self.key(name))
        try:
            yield upload.feed
            with self._errors("upload"):
                upload.complete()
        except BaseException:
            upload.abort()
            raise

    def read(self, name: str) -> Iterator[bytes]:
        with self._errors("download"):
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"]
        with contextlib.closing(body), self._errors("download"):
            yield from body.iter_chunks(READ_CHUNK)

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(f"S3 head in bucket {self.bucket}: {exc.response.get('Error', {}).get('Code')}") from None
        return True

    def delete_prefix(self, prefix: str) -> None:
        key = self.key(prefix)
        with self._errors("delete"):
            # the object itself, and everything "below" it as a folder
            self.client.delete_object(Bucket=self.bucket, Key=key)
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=key + "/"):
                objects = [{"Key": o["Key"]} for o in page.get("Contents") or []]
                if objects:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})

    def locate(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.key(name)}"

    def check(self) -> None:
        """Reach the bucket (a storage target's "test" button and form validation)."""
        with self._errors("access check"):
            self.client.head_bucket(Bucket=self.bucket)


class _Upload:
    """A streamed multipart upload: parts go out as the data arrives; small objects are one PUT."""

    def __init__(self, storage: S3Storage, key: str):
        self.storage, self.key = storage, key
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict] = []

    @property
    def _s3(self):
        return self.storage.client

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= PART_SIZE:
            self._part(bytes(self.buffer[:PART_SIZE]))
            del self.buffer[:PART_SIZE]

    def _part(self, data: bytes) -> None:
        with self.storage._errors("upload"):
            if self.upload_id is None:
                self.upload_id = self._s3.create_multipart_upload(Bucket=self.storage.bucket, Key=self.key)["UploadId"]
            number = len(self.parts) + 1
            etag = self._s3.upload_part(Bucket=self.storage.bucket, Key=self.key, UploadId=self.upload_id,
                                        PartNumber=number, Body=data)["ETag"]
        self.parts.append({"PartNumber": number, "ETag": etag})

    def complete(self) -> None:
        if self.upload_id is None:
            self._s3.put_object(Bucket=self.storage.bucket, Key=self.key, Body=bytes(self.buffer))
            return
        if self.buffer:
            self._part(bytes(self.buffer))
        self._s3.complete_multipart_upload(Bucket=self.storage.bucket, Key=self.key, UploadId=self.upload_id,
                                           MultipartUpload={"Parts": self.parts})

    def abort(self) -> None:
        if self.upload_id is not None:
            with contextlib.suppress(Exception):
                self._s3.abort_multipart_upload(Bucket=self.storage.bucket, Key=self.key, UploadId=self.upload_id)

