"""Creating, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from plitka_site.apikeys.models import ApiKey

KEY_TAG = "plk"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(
    *,
    name: str,
    scope: str = ApiKey.Scope.READ,
    rate_limit: str = "",
    render_quota_per_day: int | None = None,
) -> IssuedKey:
    """Make a key; the plaintext is returned here once and never stored."""
    if scope not in ApiKey.Scope.values:
        raise ValueError(f"scope {scope!r} is not one of {', '.join(ApiKey.Scope.values)}")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        scope=scope,
        rate_limit=rate_limit,
        render_quota_per_day=render_quota_per_day,
    )
    api_key.full_clean()
    api_key.save()
    return IssuedKey(api_key=api_key, plaintext=f"{KEY_TAG}_{prefix}_{secret}")


def api_key_verify(*, plaintext: str) -> ApiKey | None:
    """The active key this plaintext belongs to, or None."""
    tag, _, rest = plaintext.partition("_")
    prefix, _, secret = rest.partition("_")
    if tag != KEY_TAG or not prefix or not secret:
        return None
    api_key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_GRANULARITY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key
