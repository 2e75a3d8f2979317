"""Models a GPU worker loads (and compiles, if set) as it starts, before any job.

`PLITKA_DIFFUSION_PRELOAD` lists model references (profile names, folders, Hugging Face
ids). Each worker child process loads them in a thread right after it is forked, so CUDA
is initialised in the child, never in Celery's parent, and the first job finds them loaded;
a job that arrives sooner waits on the cache's lock. The heartbeat shows them, with the
compile warm-up time, as soon as they are in.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import worker_process_init
from django.conf import settings
from django.db import connection

from renders.models import ModelProfile
from renders.services.profiles import is_profile_name

logger = logging.getLogger(__name__)


def diffusion_preload() -> list[dict[str, Any]]:
    """Load every model of PLITKA_DIFFUSION_PRELOAD into this process's cache."""
    loaded: list[dict[str, Any]] = []
    for reference in settings.DIFFUSION_PRELOAD:
        folder = reference
        if is_profile_name(reference):
            profile = ModelProfile.objects.filter(name=reference, is_active=True).first()
            if profile is None:
                logger.warning("preload: no active model profile named %r", reference)
                continue
            folder = profile.base_model
        try:
            # Imported only here: a worker that preloads nothing never loads torch.
            from gpu_worker.engines.diffusion.models import model_preload
            from gpu_worker.engines.registry import engine_get

            engine_get("diffusion")  # the engine reports what its cache holds
            loaded.append(model_preload(folder))
        except Exception:
            logger.exception("preload of %r failed; it will load with its first job", reference)
    return loaded


def _preload_thread() -> None:
    try:
        diffusion_preload()
    finally:
        connection.close()


@worker_process_init.connect
def start_preload(**kwargs: Any) -> None:
    if settings.DIFFUSION_PRELOAD:
        threading.Thread(target=_preload_thread, name="model-preload", daemon=True).start()
