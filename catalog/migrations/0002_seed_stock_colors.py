"""Seed the 29 stock granule colours from the shop's measured palette."""

import json
from pathlib import Path

from django.db import migrations

PALETTE = Path(__file__).resolve().parent.parent / "data" / "palette.json"


def seed(apps, schema_editor):
    Color = apps.get_model("catalog", "Color")
    for entry in json.loads(PALETTE.read_text(encoding="utf-8"))["colors"]:
        lab_l, lab_a, lab_b = entry["lab"]
        Color.objects.update_or_create(
            code=entry["code"],
            defaults={
                "name_en": entry["name_en"],
                "name_ru": entry["name_ru"],
                "hex": entry["hex"].upper(),
                "lab_l": lab_l,
                "lab_a": lab_a,
                "lab_b": lab_b,
                "lightness_spread": entry["lightness_spread"],
            },
        )


def unseed(apps, schema_editor):
    Color = apps.get_model("catalog", "Color")
    codes = [e["code"] for e in json.loads(PALETTE.read_text(encoding="utf-8"))["colors"]]
    Color.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
