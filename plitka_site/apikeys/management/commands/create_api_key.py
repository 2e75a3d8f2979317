from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from plitka_site.apikeys.models import ApiKey
from plitka_site.apikeys.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a storefront client and print it once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="who the key is for, e.g. 'storefront'")
        parser.add_argument("--scope", choices=ApiKey.Scope.values, default=ApiKey.Scope.READ)
        parser.add_argument("--rate", default="", help="request limit, e.g. 600/min")
        parser.add_argument("--quota", type=int, default=None, help="new renders per day")
        parser.add_argument("--quiet", action="store_true", help="print only the key")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            issued = api_key_create(
                name=str(options["name"]),
                scope=str(options["scope"]),
                rate_limit=str(options["rate"]),
                render_quota_per_day=options["quota"],
            )
        except (ValidationError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if options["quiet"]:
            self.stdout.write(issued.plaintext)
            return
        self.stdout.write(f"API key for {issued.api_key.name} (scope {issued.api_key.scope}):")
        self.stdout.write(issued.plaintext)
        self.stdout.write(
            "It is shown only now; store it. Send it as: Authorization: Api-Key <key>"
        )
