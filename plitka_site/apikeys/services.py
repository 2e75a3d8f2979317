"""Creating, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
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


# A verified key is remembered this long in each process, so a client polling many times
# a second costs no key lookup; a revoked key is refused within this time.
KEY_CACHE_S = 5.0
KEY_CACHE_MAX = 1024
_verified: dict[str, tuple[float, ApiKey]] = {}
_verified_lock = threading.Lock()


def _remembered(digest: str) -> ApiKey | None:
    with _verified_lock:
        entry = _verified.get(digest)
    if entry is None or time.monotonic() - entry[0] > KEY_CACHE_S:
        return None
    return entry[1]


def _remember(digest: str, api_key: ApiKey) -> None:
    with _verified_lock:
        if len(_verified) >= KEY_CACHE_MAX:
            _verified.clear()  # many keys at once: start over rather than grow
        _verified[digest] = (time.monotonic(), api_key)


def api_key_verify(*, plaintext: str) -> ApiKey | None:
    """The active key this plaintext belongs to, or None."""
    tag, _, rest = plaintext.partition("_")
    prefix, _, secret = rest.partition("_")
    if tag != KEY_TAG or not prefix or not secret:
        return None
    digest = _hash(plaintext)
    api_key = _remembered(digest)
    if api_key is None:
        api_key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
        if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash(secret)):
            return None
        _remember(digest, api_key)
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_GRANULARITY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    api_keys_forget()  # this process at once; the others within KEY_CACHE_S
    return api_key


def api_keys_forget() -> None:
    """Drop what this process remembers of verified keys."""
    with _verified_lock:
        _verified.clear()
