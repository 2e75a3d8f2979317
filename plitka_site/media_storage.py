"""Where result images go, from the environment: this machine's disk or an S3 bucket.

`MEDIA_STORAGE=s3` puts them in an S3-compatible bucket that web nodes and workers on
other machines share; anything else than `filesystem` or `s3` stops the process at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plitka_site.env import ConfigError

FILESYSTEM: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def media_storage(environ: Mapping[str, str]) -> dict[str, Any]:
    """The STORAGES["default"] entry the environment asks for."""
    kind = environ.get("MEDIA_STORAGE", "") or "filesystem"
    if kind == "filesystem":
        return FILESYSTEM
    if kind != "s3":
        raise ConfigError(f"MEDIA_STORAGE={kind!r} must be filesystem or s3")

    def get(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    bucket = get("MEDIA_S3_BUCKET")
    if bucket is None:
        raise ConfigError("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET")
    expire = get("MEDIA_S3_URL_EXPIRE_S") or "3600"
    if not expire.isascii() or not expire.isdigit() or not 1 <= int(expire) <= 604_800:
        raise ConfigError(f"MEDIA_S3_URL_EXPIRE_S={expire!r} must be 1..604800 seconds")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            # None: AWS itself; otherwise MinIO, Ceph, R2, ... at this URL.
            "endpoint_url": get("MEDIA_S3_ENDPOINT_URL"),
            "region_name": get("MEDIA_S3_REGION"),
            # None: boto3's own chain (AWS_ACCESS_KEY_ID and friends, an instance role).
            "access_key": get("MEDIA_S3_ACCESS_KEY_ID"),
            "secret_key": get("MEDIA_S3_SECRET_ACCESS_KEY"),
            "location": get("MEDIA_S3_PREFIX") or "",
            # Public URLs (a public bucket, or a CDN in front: MEDIA_S3_CUSTOM_DOMAIN), or
            # presigned ones that expire (the default: the bucket stays private).
            "querystring_auth": (get("MEDIA_S3_PUBLIC") or "0") not in {"1", "true", "yes"},
            "querystring_expire": int(expire),
            "custom_domain": get("MEDIA_S3_CUSTOM_DOMAIN"),
            "signature_version": "s3v4",  # what every region and S3-compatible server takes
            # Names are content addresses: a second write of a name is the same bytes, and
            # must keep the name rather than get a suffix.
            "file_overwrite": True,
            "default_acl": None,
        },
    }
