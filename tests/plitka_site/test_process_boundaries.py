"""What each process may load, and production settings that pass Django's deploy check."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_time_limits_must_nest_inside_the_visibility_timeout():
    result = run_python(
        "import django; django.setup()",
        RENDER_HARD_TIME_LIMIT_S="4000",
        CELERY_VISIBILITY_TIMEOUT_S="3600",
    )
    assert result.returncode != 0
    assert "RENDER_SOFT_TIME_LIMIT_S < RENDER_HARD_TIME_LIMIT_S < CELERY_VISIBILITY_TIMEOUT_S" in (
        result.stderr
    )


def test_the_celery_app_reads_the_worker_settings_the_design_asks_for():
    result = run_python(
        "import django; django.setup()\n"
        "from plitka_site.celery import app\n"
        "c = app.conf\n"
        "print(c.task_acks_late, c.worker_prefetch_multiplier, c.task_reject_on_worker_lost,\n"
        "      c.task_soft_time_limit < c.task_time_limit\n"
        "      < c.broker_transport_options['visibility_timeout'],\n"
        "      c.broker_transport_options['queue_order_strategy'])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "1", "True", "True", "priority"]


def _imports(package: str) -> dict[str, set[str]]:
    """Modules each file of `package` imports (absolute names; relative ones resolved)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = module.split(".")[: -node.level]
                    base = ".".join([*parent, base] if base else parent)
                names.add(base)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_dependencies_point_one_way():
    # catalog is the base: the renders app builds on it, never the other way round.
    for path, names in _imports("catalog").items():
        assert not {n for n in names if n.split(".")[0] in {"renders", "gpu_worker"}}, path
    # The engines take plain data: no Django, no jobs, only catalog's plain value types.
    plain_catalog = {
        "catalog",
        "catalog.recipes",
        "catalog.geometry",
        "catalog.palette",
        "catalog.input_checks",
        "catalog.i18n",  # Django's gettext only where Django is set up
    }
    for path, names in _imports("gpu_worker").items():
        roots = {n.split(".")[0] for n in names}
        assert not roots & {"django", "rest_framework", "renders", "plitka_site", "celery"}, path
        assert {n for n in names if n.split(".")[0] == "catalog"} <= plain_catalog, path


def test_the_engines_and_the_analyzer_load_without_django():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "import gpu_worker.engines.procedural.engine, gpu_worker.runner\n"
            "import gpu_worker.colour.measure, gpu_worker.params, gpu_worker.contract\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'django', 'renders', 'rest_framework', 'celery'}))",
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "PLITKA_GPU_MEMORY_FRACTION",
            "0.95",
            "PLITKA_GPU_MEMORY_FRACTION='0.95' is outside 0.5-0.8",
        ),
        ("PLITKA_DIFFUSION_BATCH", "0", "PLITKA_DIFFUSION_BATCH=0 must be 1 (off) to 16"),
        ("PLITKA_DIFFUSION_BATCH", "64", "PLITKA_DIFFUSION_BATCH=64 must be 1 (off) to 16"),
    ],
)
def test_a_bad_gpu_worker_setting_stops_a_process_at_start(name, value, message):
    env = {**os.environ, name: value, "DJANGO_SETTINGS_MODULE": "plitka_site.settings"}
    probe = "import django; django.setup()"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert message in done.stderr
