"""The reconciler every 5 s instead of 30: with a 10 s heartbeat staleness, a dead worker's
job runs again within 20 s. A schedule staff have already changed is left as they set it."""

from django.db import migrations

NAME = "Reconcile render jobs"


def _move(apps, *, from_s: int, to_s: int) -> None:
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    target, _ = IntervalSchedule.objects.get_or_create(every=to_s, period="seconds")
    PeriodicTask.objects.filter(
        name=NAME, interval__every=from_s, interval__period="seconds"
    ).update(interval=target)


def faster(apps, schema_editor):
    _move(apps, from_s=30, to_s=5)


def slower(apps, schema_editor):
    _move(apps, from_s=5, to_s=30)


class Migration(migrations.Migration):
    dependencies = [("renders", "0010_quota_counter")]

    operations = [migrations.RunPython(faster, slower)]
