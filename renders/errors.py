"""Why a render request or action was refused, with the HTTP status that says so."""

from __future__ import annotations

from collections.abc import Mapping


class RenderRequestError(Exception):
    http_status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class QuotaExceeded(RenderRequestError):
    http_status = 429
    code = "quota_exceeded"


class IdempotencyMismatch(RenderRequestError):
    http_status = 422
    code = "idempotency_key_reused"


class JobConflict(RenderRequestError):
    http_status = 409
    code = "conflict"
