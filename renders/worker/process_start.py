"""What a render worker's processes set up as they start, before any job."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_init, worker_process_init
from django.conf import settings

from gpu_worker.allocator import allocator_keep_freed

logger = logging.getLogger(__name__)


@worker_init.connect  # the main process: a prefork pool's children inherit it
@worker_process_init.connect  # each child, in case it was forked otherwise
def allocator_setup(**kwargs: Any) -> None:
    keep = settings.RENDER_HEAP_KEEP_MB * 1024 * 1024
    if not allocator_keep_freed(keep_bytes=keep):
        logger.info("not glibc: freed render memory goes back to the system after each job")
