"""Why a render request or action was refused: domain errors, no HTTP here.

Each carries a stable `code` and a message that names the problem; `fields` maps each bad
input to what is wrong with it. The API layer picks the HTTP status (REFUSAL_STATUS in
renders/api/views.py).
"""

from __future__ import annotations

from collections.abc import Mapping


class RenderRequestError(Exception):
    """The request cannot be rendered as asked (bad product, recipe or parameter)."""

    code = "invalid"

    def __init__(self, message: str, *, fields: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class QuotaExceeded(RenderRequestError):
    """The client's daily quota of new renders is used up until `retry_after` seconds."""

    code = "quota_exceeded"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IdempotencyMismatch(RenderRequestError):
    """An Idempotency-Key came back with a different request body."""

    code = "idempotency_key_reused"


class JobConflict(RenderRequestError):
    """The job is not in a state that allows the action (e.g. cancel a finished job)."""

    code = "conflict"
