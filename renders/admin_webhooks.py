"""Webhooks in the admin: each key's callback URLs, and every delivery with its attempts."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.admin import ReadOnlyAdminMixin
from renders.models import Webhook, WebhookDelivery
from renders.services.webhooks import webhook_delivery_retry, webhook_remove

STATE_COLOURS: dict[str, str] = {
    WebhookDelivery.State.PENDING: "#8d6e00",
    WebhookDelivery.State.DELIVERED: "#2e7d32",
    WebhookDelivery.State.FAILED: "#c62828",
}


def _state_badge(state: str) -> str:
    return format_html(
        '<span style="padding:1px 8px;border-radius:8px;color:#fff;background:{}">{}</span>',
        STATE_COLOURS.get(state, "#666"),
        state,
    )


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["url", "api_key", "created_at", "removed_at", "delivery_counts"]
    list_filter = [("removed_at", admin.EmptyFieldListFilter)]
    search_fields = ["url", "api_key__name"]
    list_select_related = ["api_key"]
    actions = ["remove_webhooks"]
    fields = readonly_fields = (
        "url",
        "api_key",
        "base_url",
        "created_at",
        "removed_at",
        "delivery_counts",
    )

    @admin.display(description=_("deliveries"))
    def delivery_counts(self, webhook: Webhook) -> str:
        counts = {state: 0 for state in WebhookDelivery.State.values}
        for state in webhook.deliveries.values_list("state", flat=True):
            counts[state] += 1
        listing = reverse("admin:renders_webhookdelivery_changelist")
        return format_html_join(
            " · ",
            '<a href="{}?webhook__id__exact={}&state__exact={}">{} {}</a>',
            ((listing, webhook.pk, state, count, state) for state, count in counts.items()),
        )

    @admin.action(description=_("Remove selected webhooks (stop sending to them)"))
    def remove_webhooks(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        removed = 0
        for webhook in queryset.filter(removed_at=None):
            webhook_remove(webhook=webhook)
            removed += 1
        self.message_user(
            request, gettext("Removed %(count)d webhooks.") % {"count": removed}, messages.SUCCESS
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "event",
        "job_link",
        "webhook_url",
        "state_badge",
        "attempts",
        "last_status_code",
        "last_error_short",
        "next_attempt_at",
    ]
    list_filter = ["state", "event"]
    search_fields = ["job__id", "webhook__url"]
    list_select_related = ["webhook"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    fields = readonly_fields = (
        "event",
        "job_link",
        "webhook_url",
        "state_badge",
        "attempts",
        "next_attempt_at",
        "created_at",
        "finished_at",
        "attempt_log",
        "payload",
    )

    @admin.display(description=_("job"))
    def job_link(self, delivery: WebhookDelivery) -> str:
        url = reverse("admin:renders_renderjob_change", args=[delivery.job_id])
        return format_html('<a href="{}">{}</a>', url, str(delivery.job_id)[:8])

    @admin.display(description=_("URL"))
    def webhook_url(self, delivery: WebhookDelivery) -> str:
        url = reverse("admin:renders_webhook_change", args=[delivery.webhook_id])
        return format_html('<a href="{}">{}</a>', url, delivery.webhook.url[:60])

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, delivery: WebhookDelivery) -> str:
        return _state_badge(delivery.state)

    @admin.display(description=_("last error"))
    def last_error_short(self, delivery: WebhookDelivery) -> str:
        return delivery.last_error[:80]

    @admin.display(description=_("attempts, oldest first"))
    def attempt_log(self, delivery: WebhookDelivery) -> str:
        if not delivery.log:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            (
                (
                    str(entry.get("at", ""))[:19].replace("T", " "),
                    entry.get("url", ""),
                    entry.get("status") or "-",
                    f"{entry.get('seconds', 0):.2f} s",
                    entry.get("error") or entry.get("response", ""),
                )
                for entry in delivery.log
                if isinstance(entry, dict)
            ),
        )
        return format_html(
            "<table><tr><th>at (UTC)</th><th>URL</th><th>status</th><th>took</th>"
            "<th>error or answer</th></tr>{}</table>",
            rows,
        )

    @admin.action(description=_("Send selected deliveries again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        again = sum(
            webhook_delivery_retry(delivery=delivery)
            for delivery in queryset.select_related("webhook")
        )
        skipped = queryset.count() - again
        text = gettext("Sending %(count)d deliveries again.") % {"count": again}
        if skipped:
            text += " " + gettext("%(count)d belong to removed webhooks.") % {"count": skipped}
        self.message_user(request, text, messages.SUCCESS)
