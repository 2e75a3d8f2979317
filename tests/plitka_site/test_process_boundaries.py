"""What each process may load, and production settings that pass Django's deploy check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("torch", "diffusers", "transformers")

PROBE = """
import importlib, pkgutil, sys
import django
django.setup()
from django.urls import get_resolver
resolver = get_resolver()
resolver.url_patterns  # imports every view module the URL conf names
for app in ("catalog", "renders", "plitka_site"):
    package = importlib.import_module(app)
    for info in pkgutil.walk_packages(package.__path__, app + "."):
        if ".migrations" in info.name or ".management" in info.name:
            continue
        importlib.import_module(info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("HEAVY:" + ",".join(loaded))
"""


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "plitka_site.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def loaded_by_the_web_process(modules: tuple[str, ...]) -> str:
    result = run_python(PROBE.replace("{heavy!r}", repr(set(modules))))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().removeprefix("HEAVY:")


def test_the_web_process_never_imports_torch_diffusers_or_transformers():
    assert loaded_by_the_web_process(HEAVY) == ""


def test_the_web_process_stays_small_without_numpy_or_opencv():
    # Engines and colour science load only in workers; the API reads engine metadata only.
    assert loaded_by_the_web_process(("numpy", "cv2")) == ""


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": "a-real-secret-" + "x" * 50 + "-long-and-random-3f9c2a",
            "ALLOWED_HOSTS": "shop.example",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret():
    result = run_python("import django; django.setup()", DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
