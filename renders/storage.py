"""Content-addressed result files in the default storage, written atomically."""

from __future__ import annotations

import errno
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def result_names(digest: str) -> tuple[str, str]:
    """Where a PNG with this sha256 and its thumbnail live."""
    stem = f"renders/{digest[:2]}/{digest[2:4]}/{digest}"
    return f"{stem}.png", f"{stem}.thumb.webp"


def media_put(*, name: str, content: bytes) -> str:
    """Store bytes under exactly `name`; a file already there has the same bytes."""
    if default_storage.exists(name):
        return name
    try:
        target = Path(default_storage.path(name))
    except NotImplementedError:  # remote storage: one PUT is already all or nothing
        return default_storage.save(name, ContentFile(content))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: a reader never sees half a file.
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return name


# Errors a later try may not meet: a full disk that is being cleared, a busy or briefly
# unreachable store. A read-only or forbidden folder is a setup error: failed at once.
TRANSIENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EAGAIN,
        errno.EBUSY,
        errno.EINTR,
        errno.ETIMEDOUT,
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
        errno.EPIPE,
    }
)
# S3 (botocore) errors worth another try, by class name: the web process and a worker
# without the S3 extra never import botocore for this.
TRANSIENT_S3_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ResponseStreamingError",
    }
)


def storage_error_is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno in TRANSIENT_ERRNOS
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if any(kind.__name__ in TRANSIENT_S3_ERRORS for kind in type(exc).__mro__):
        return True
    response = getattr(exc, "response", None)  # botocore's ClientError: 5xx and SlowDown
    if isinstance(response, dict):
        meta = response.get("ResponseMetadata", {})
        code = response.get("Error", {}).get("Code", "")
        return int(meta.get("HTTPStatusCode", 0)) >= 500 or code in {"SlowDown", "RequestTimeout"}
    return False


def media_put_retrying(
    *,
    name: str,
    content: bytes,
    delays: Sequence[float],
    on_retry: Callable[[BaseException, float], None] | None = None,
) -> str:
    """media_put, tried again after each of `delays` (seconds) while the error is transient;
    the last error is raised. `on_retry(error, delay)` is told before each wait."""
    for delay in (*delays, None):
        try:
            return media_put(name=name, content=content)
        except Exception as exc:
            if delay is None or not storage_error_is_transient(exc):
                raise
            if on_retry is not None:
                on_retry(exc, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises
