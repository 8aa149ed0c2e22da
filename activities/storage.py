"""Artifacts in object storage, through the S3 API (`minio` SDK): MinIO, AWS S3, or `rclone serve s3` locally.

Objects are immutable in practice: a key names one version of one file of one turn
(`workflows/<run>/<step>/<turn>/<path>`), so rewriting a key on retry writes the same logical artifact.
"""

import hashlib
import io
import mimetypes
import threading
from dataclasses import dataclass

import urllib3
from minio import Minio
from minio.error import MinioException

from config import Settings

# Source files are text; say so, so browsers show them instead of downloading an unknown type.
TEXT_TYPES = {
    ".py": "text/x-python",
    ".md": "text/markdown",
    ".toml": "application/toml",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".ts": "text/plain",
    ".sh": "text/x-shellscript",
    ".ini": "text/plain",
    ".cfg": "text/plain",
    ".txt": "text/plain",
    ".sql": "text/plain",
}


class StorageError(RuntimeError):
    """Object storage is unreachable or refused the request."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    sha256: str
    content_type: str


def content_type_for(path: str) -> str:
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix in TEXT_TYPES:
        return TEXT_TYPES[suffix] + "; charset=utf-8"
    guessed, _ = mimetypes.guess_type(path)
    if guessed is None:
        return "text/plain; charset=utf-8"
    return guessed + ("; charset=utf-8" if guessed.startswith("text/") else "")


class ArtifactStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.endpoint = settings.s3_endpoint
        # Short timeouts and few retries: a down store must be reported, not waited on for minutes.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3, read=60),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        self._client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            region=settings.s3_region,
            http_client=http,
        )
        self._bucket_ready = False
        self._lock = threading.Lock()

    def _fail(self, action: str, exc: Exception) -> StorageError:
        return StorageError(f"object storage at {self.endpoint} failed to {action}: {type(exc).__name__}: {exc}")

    def ensure_bucket(self) -> None:
        with self._lock:
            if self._bucket_ready:
                return
            try:
                if not self._client.bucket_exists(self.bucket):
                    self._client.make_bucket(self.bucket)
            except (MinioException, urllib3.exceptions.HTTPError) as exc:
                raise self._fail(f"open bucket {self.bucket}", exc) from exc
            self._bucket_ready = True

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        self.ensure_bucket()
        digest = hashlib.sha256(data).hexdigest()
        try:
            self._client.put_object(
                self.bucket, key, io.BytesIO(data), len(data), content_type=content_type, metadata={"sha256": digest}
            )
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise self._fail(f"store {key}", exc) from exc
        return StoredObject(key=key, size_bytes=len(data), sha256=digest, content_type=content_type)

    def get(self, key: str) -> bytes:
        self.ensure_bucket()
        try:
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise self._fail(f"read {key}", exc) from exc

    def delete(self, key: str) -> None:
        self.ensure_bucket()
        try:
            self._client.remove_object(self.bucket, key)
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise self._fail(f"delete {key}", exc) from exc

    def ping(self) -> None:
        """Raise StorageError unless the store answers (for health checks)."""
        try:
            self._client.bucket_exists(self.bucket)
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise self._fail("answer", exc) from exc
