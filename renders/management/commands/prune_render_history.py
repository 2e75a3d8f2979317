from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from renders.services import render_history_prune


class Command(BaseCommand):
    help = (
        "Delete finished render jobs older than N days (never those behind a catalog image), "
        "colour analyses finished before then with their photos and pictures, and expired "
        "idempotency keys."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--older-than-days", type=int, required=True)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            report = render_history_prune(
                older_than_days=int(options["older_than_days"]),
                dry_run=bool(options["dry_run"]),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would delete" if options["dry_run"] else "Deleted"
        files = "" if options["dry_run"] else f" ({report.analysis_files} file(s))"
        self.stdout.write(
            f"{verb} {report.jobs} render job(s), {report.analyses} colour analysis(es)"
            f"{files}, {report.idempotency_records} expired idempotency key(s) and "
            f"{report.quota_days} past quota counter(s)."
        )
