"""The periodic render tasks, as editable django-celery-beat rows."""

import json

from django.db import migrations

SCHEDULES = [
    # (name, task, every seconds)
    ("Reconcile render jobs", "renders.reconcile", 30),
    ("Re-render stale catalog images", "renders.rerender_stale", 900),
]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "queue": "maintenance",
                "kwargs": json.dumps({}),
                "description": "Created by renders.0002; edit freely.",
            },
        )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("renders", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
