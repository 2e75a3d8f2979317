from argparse import ArgumentParser
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from plitka_site.apikeys.models import ApiKey
from plitka_site.apikeys.services import api_key_create, api_key_verify

DEMO_KEY_NAME = "demo-storefront"


class Command(BaseCommand):
    help = (
        "For `make run` only: make sure a demo admin and a demo API key exist and print them. "
        "The demo key's plaintext is kept in var/ so a restart can print it again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="plitka-demo")

    def handle(self, *args: object, **options: object) -> None:
        username, password = str(options["username"]), str(options["password"])
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()

        key_file = Path(settings.VAR_DIR) / "demo-api-key.txt"
        plaintext = key_file.read_text().strip() if key_file.exists() else ""
        if not plaintext or api_key_verify(plaintext=plaintext) is None:
            ApiKey.objects.filter(name=DEMO_KEY_NAME).delete()
            plaintext = api_key_create(name=DEMO_KEY_NAME, scope=ApiKey.Scope.RENDER).plaintext
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(plaintext + "\n")
            key_file.chmod(0o600)
        self.stdout.write(f"Demo admin:   {username} / {password}")
        self.stdout.write(f"Demo API key: {plaintext}")
