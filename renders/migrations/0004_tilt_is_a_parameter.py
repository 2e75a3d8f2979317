"""The perspective camera's tilt is a declared render parameter, no longer an option.

Jobs that asked for {"options": {"tilt": T}} now say {"tilt": T}, checked against the
declaration's bounds like any parameter (values outside them were clamped by the engine, so
they are clamped here the same way). Their render keys change with the request's shape,
so the stale sweep renders those images again, with the same tilt.
"""

import math

from django.db import migrations

TILT_RANGE = (0.0, 75.0)  # the declaration's bounds when this migration was written
DEFAULT_TILT = 55.0


def forwards(apps, schema_editor):
    RenderJob = apps.get_model("renders", "RenderJob")
    for job in RenderJob.objects.filter(params__options__has_key="tilt").iterator():
        options = dict(job.params.get("options") or {})
        try:
            tilt = float(options.pop("tilt"))
        except (TypeError, ValueError):
            tilt = DEFAULT_TILT  # the engine read a junk value as a failure, not a tilt
        if not math.isfinite(tilt):  # "nan" would not even be valid JSON to store
            tilt = DEFAULT_TILT
        tilt = min(max(tilt, TILT_RANGE[0]), TILT_RANGE[1])
        params = {**job.params, "options": options}
        if tilt != DEFAULT_TILT:
            params["tilt"] = tilt
        job.params = params
        job.save(update_fields=["params"])


def backwards(apps, schema_editor):
    RenderJob = apps.get_model("renders", "RenderJob")
    for job in RenderJob.objects.filter(params__has_key="tilt").iterator():
        params = dict(job.params)
        tilt = params.pop("tilt")
        params["options"] = {**(params.get("options") or {}), "tilt": tilt}
        job.params = params
        job.save(update_fields=["params"])


class Migration(migrations.Migration):
    dependencies = [("renders", "0003_params_kept_once")]

    operations = [migrations.RunPython(forwards, backwards)]
