"""Recipe names become unique, ignoring case. Copies made before (the README's example
made a second "Autumn" each time it ran) are renamed "Autumn (2)", "Autumn (3)", ... in the
order they were made; the first keeps its name, and nothing is deleted."""

from typing import Any

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


def rename_copies(apps: Any, schema_editor: Any) -> None:
    ColorRecipe = apps.get_model("catalog", "ColorRecipe")
    taken = {name.lower() for name in ColorRecipe.objects.values_list("name", flat=True)}
    seen: set[str] = set()
    for recipe in ColorRecipe.objects.order_by("created_at", "pk"):
        key = recipe.name.lower()
        if key not in seen:
            seen.add(key)
            continue
        number = 2
        while True:
            suffix = f" ({number})"
            candidate = recipe.name[: 200 - len(suffix)] + suffix
            if candidate.lower() not in taken:
                break
            number += 1
        taken.add(candidate.lower())
        seen.add(candidate.lower())
        recipe.name = candidate
        recipe.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_catalog_image_fidelity"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(rename_copies, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="colorrecipe",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="recipe_name_unique_ignoring_case",
                violation_error_message="A recipe with this name exists already "
                "(names are compared ignoring case).",
            ),
        ),
    ]
