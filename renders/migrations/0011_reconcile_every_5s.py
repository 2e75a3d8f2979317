"""The reconciler every 5 s instead of 30: with a 10 s heartbeat staleness, a dead worker's
job runs again within 20 s. A schedule staff have already changed is left as they set it."""

from django.db import migrations

NAME = "Reconcile render jobs"


def faster(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    PeriodicTask.objects.filter(name=NAME, interval__every=30, interval__period="seconds").update(
        interval=every_5
    )


def slower(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_30, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.filter(name=NAME, interval__every=5, interval__period="seconds").update(
        interval=every_30
    )


class Migration(migrations.Migration):
    dependencies = [("renders", "0010_quota_counter")]

    operations = [migrations.RunPython(faster, slower)]
