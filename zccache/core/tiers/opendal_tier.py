"""A remote tier on Apache OpenDAL: every backend it speaks is a URL scheme here.

    redis://host:6379/0                       Redis (a database number, optional)
    s3://bucket/prefix?endpoint=http://minio:9000&region=us-east-1
                                              S3 or any S3 API; credentials from
                                              AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    webdav+http://host:8080/path              WebDAV (webdav+https for TLS)
    memcached://host:11211                    memcached
    gcs://bucket/prefix                       Google Cloud Storage (credentials as OpenDAL
                                              finds them: GOOGLE_APPLICATION_CREDENTIALS ...)
    azblob://container/prefix?endpoint=https://ACCOUNT.blob.core.windows.net&account_name=...
                                              Azure Blob (account_key=..., or AZBLOB_* variables)

Query parameters other than the ones named are handed to the OpenDAL service as
options, so a backend's own settings need no code here.
"""

from __future__ import annotations

import urllib.parse

from zccache.core.config import Config, ConfigError
from zccache.core.hookspecs import hookimpl


@hookimpl
def zccache_storage_tiers(config: Config) -> list:
    return [OpendalTier(config.remote, config.remote_timeout)] if config.remote else []


def operator_args(url: str) -> tuple[str, dict[str, str]]:
    """(OpenDAL service, its options) for a ZCCACHE_REMOTE URL."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
    path = parts.path.strip("/")
    if scheme == "redis" or scheme == "rediss":
        options = {"endpoint": f"{'tcp' if scheme == 'redis' else 'rediss'}://{parts.hostname}:{parts.port or 6379}",
                   "root": "/" + query.pop("prefix", "zccache")}
        if path:
            options["db"] = path
        if parts.password:
            options["password"] = urllib.parse.unquote(parts.password)
        if parts.username:
            options["username"] = urllib.parse.unquote(parts.username)
        return "redis", {**options, **query}
    if scheme == "memcached":
        return "memcached", {"endpoint": f"tcp://{parts.hostname}:{parts.port or 11211}",
                             "root": "/" + (path or "zccache"), **query}
    if scheme in ("s3", "gcs", "azblob"):
        if not parts.hostname:
            raise ConfigError(f"ZCCACHE_REMOTE {url!r} names no bucket")
        bucket = "container" if scheme == "azblob" else "bucket"
        options = {bucket: parts.netloc, "root": "/" + path}
        if scheme == "s3":
            options["region"] = query.pop("region", "us-east-1")
        return scheme, {**options, **query}
    if scheme in ("webdav+http", "webdav+https"):
        return "webdav", {"endpoint": f"{scheme.partition('+')[2]}://{parts.netloc}", "root": "/" + path, **query}
    raise ConfigError(f"ZCCACHE_REMOTE {url!r}: unknown scheme (redis, s3, gcs, azblob, webdav+http, memcached)")


def _path(key: str) -> str:
    kind, _, name = key.partition(":")
    return f"{kind}/{name}"


class OpendalTier:
    def __init__(self, url: str, timeout: float) -> None:
        try:
            import opendal
            from opendal import layers
        except ImportError:
            raise ConfigError("ZCCACHE_REMOTE needs OpenDAL: pip install 'pyzccache[remote]'") from None

        service, options = operator_args(url)
        try:
            op = opendal.Operator(service, **options)
        except Exception as exc:
            raise ConfigError(f"ZCCACHE_REMOTE {url!r}: {str(exc).splitlines()[0]}") from None
        self._op = op.layer(layers.TimeoutLayer(timeout=timeout, io_timeout=timeout))
        # object stores take a content type; GCS's emulator (and some proxies) answer a
        # write without one with a document OpenDAL cannot read
        self._typed = bool(op.capability().write_with_content_type)
        self._not_found = opendal.exceptions.NotFound
        parts = urllib.parse.urlsplit(url)
        self.name = f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}"

    def get(self, key: str) -> bytes | None:
        try:
            return bytes(self._op.read(_path(key)))
        except self._not_found:
            return None

    def put(self, key: str, value: bytes) -> None:
        if self._typed:
            self._op.write(_path(key), value, content_type="application/octet-stream")
        else:
            self._op.write(_path(key), value)
