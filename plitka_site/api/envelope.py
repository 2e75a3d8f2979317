"""The error envelope every API error answers with: {"error": {"code", "message", "fields"}}.

Plain data, no DRF imports: middleware that runs before DRF's settings load uses it too.
"""

from __future__ import annotations

from typing import Any


def error_body(*, code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}
