"""A job keeps each value once: `params` is the normalised request, nothing is repeated.

Before, the parameters were columns *and* keys of `params`, and the recipe was a column, a
key of `params` and a list of components with their colours. Now `params` alone holds the
product geometry, the recipe and the render parameters (it already held them all, so render
keys stay valid); `palette_snapshot` holds only the colours' measured figures; the columns
go. Whether the seed was derived is recorded instead of guessed later. An idempotency record
says whether its request made the job instead of the HTTP status that said so.
"""

import hashlib

from django.db import migrations, models

MAX_SEED = 2**31 - 1


def _seed_derive(sku: str, canonical: str) -> int:
    # Frozen copy of renders.render_key.seed_derive as it was when this migration was written.
    digest = hashlib.sha256(f"{sku}|{canonical}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & MAX_SEED


def forwards(apps, schema_editor):
    RenderJob = apps.get_model("renders", "RenderJob")
    for job in RenderJob.objects.all().iterator(chunk_size=500):
        params = dict(job.params)
        params.setdefault("recipe", job.recipe_canonical)
        for name in ("engine", "view", "angle", "size", "seed", "quality", "options"):
            params.setdefault(name, getattr(job, name))
        job.params = params
        job.palette_snapshot = {
            e["color"]: {
                "hex": e["hex"],
                "lab": e["lab"],
                "lightness_spread": e["lightness_spread"],
            }
            for e in job.recipe_snapshot
        }
        job.seed_derived = params["seed"] == _seed_derive(
            params["product"]["sku"], params["recipe"]
        )
        job.save(update_fields=["params", "palette_snapshot", "seed_derived"])
    IdempotencyRecord = apps.get_model("renders", "IdempotencyRecord")
    IdempotencyRecord.objects.filter(response_status=201).update(created=True)


def backwards(apps, schema_editor):
    RenderJob = apps.get_model("renders", "RenderJob")
    for job in RenderJob.objects.all().iterator(chunk_size=500):
        params = job.params
        for name in ("engine", "view", "angle", "size", "seed", "quality", "options"):
            setattr(job, name, params[name])
        job.recipe_canonical = params["recipe"]
        # In the canonical (recipe) order: PostgreSQL's jsonb does not keep key order.
        pairs = [item.split(":") for item in params["recipe"].split(",")]
        job.recipe_snapshot = [
            {"color": code, "percent": int(percent), **job.palette_snapshot[code]}
            for code, percent in pairs
        ]
        job.save()
    IdempotencyRecord = apps.get_model("renders", "IdempotencyRecord")
    IdempotencyRecord.objects.filter(created=True).update(response_status=201)


OLD_COLUMNS: tuple[str, ...] = ("angle", "engine", "options", "quality", "recipe_canonical")
OLD_COLUMNS += ("recipe_snapshot", "seed", "size", "view")


class Migration(migrations.Migration):
    dependencies = [("renders", "0002_beat_schedules")]

    operations = [
        migrations.AddField(
            model_name="renderjob",
            name="palette_snapshot",
            field=models.JSONField(
                default=dict,
                help_text="The measured colours of the recipe's granules when it was asked "
                "for: what the render uses, whatever the palette says later.",
            ),
        ),
        migrations.AddField(
            model_name="renderjob",
            name="seed_derived",
            field=models.BooleanField(
                default=False,
                help_text="The caller gave no seed: it was derived from the product and the "
                "recipe.",
            ),
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="created",
            field=models.BooleanField(
                default=False, help_text="Whether the first request made the job."
            ),
            preserve_default=False,
        ),
        # Reversing re-adds the old columns to tables with rows in them: give them neutral
        # defaults (backwards() then fills in each job's real values).
        *(
            migrations.AlterField(model_name="renderjob", name=name, field=field)
            for name, field in (
                ("recipe_canonical", models.CharField(max_length=200, db_index=True, default="")),
                ("recipe_snapshot", models.JSONField(default=list)),
                ("engine", models.CharField(max_length=32, default="")),
                ("view", models.CharField(max_length=16, default="")),
                ("angle", models.PositiveSmallIntegerField(default=0)),
                ("size", models.PositiveSmallIntegerField(default=0)),
                ("seed", models.PositiveBigIntegerField(default=0)),
            )
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="response_status",
            field=models.PositiveSmallIntegerField(default=200),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="idempotencyrecord", name="response_status"),
        *(migrations.RemoveField(model_name="renderjob", name=name) for name in OLD_COLUMNS),
        migrations.AlterField(
            model_name="renderjob",
            name="params",
            field=models.JSONField(
                help_text="The normalised request as hashed into render_key: product geometry, "
                "recipe and render parameters."
            ),
        ),
    ]
