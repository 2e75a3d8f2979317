from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

RATE_PATTERN = r"^\d+/(s|sec|m|min|h|hour|d|day)$"


class ApiKey(models.Model):
    """A storefront client's key. Only a SHA-256 of the secret is kept.

    The secret is 256 random bits, so a fast hash is enough: there is nothing to brute
    force, and authentication stays one indexed lookup.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read catalog and renders")
        RENDER = "render", _("Read and submit renders")

    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True, editable=False)
    secret_hash = models.CharField(_("secret hash"), max_length=64, editable=False)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.READ)
    rate_limit = models.CharField(
        _("rate limit"),
        max_length=16,
        blank=True,
        validators=[RegexValidator(RATE_PATTERN, "Write N/min, N/hour, N/day or N/s.")],
        help_text=_("Requests allowed, e.g. 600/min. Empty: the site default."),
    )
    render_quota_per_day = models.PositiveIntegerField(
        _("renders a day"),
        null=True,
        blank=True,
        help_text=_("New renders a day. Empty: unlimited."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # A changed scope, limit or revocation applies at once in this process (and within
        # the verification cache's few seconds in the others).
        from plitka_site.apikeys.services import api_keys_forget

        api_keys_forget()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def client_id(self) -> str:
        """Stable id of the client for idempotency and quotas."""
        return f"key:{self.pk}"

    @property
    def can_render(self) -> bool:
        return self.scope == self.Scope.RENDER
