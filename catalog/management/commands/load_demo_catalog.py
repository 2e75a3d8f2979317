from django.core.management.base import BaseCommand

from catalog.services import demo_catalog_load


class Command(BaseCommand):
    help = "Create or update the demo products and recipes (safe to run again)."

    def handle(self, *args: object, **options: object) -> None:
        counts = demo_catalog_load()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog ready: {counts['products']} products, {counts['recipes']} recipes."
            )
        )
