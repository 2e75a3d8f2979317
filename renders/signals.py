"""Worker life signals: an idle worker still reports itself every few seconds."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown

logger = logging.getLogger(__name__)

IDLE_HEARTBEAT_S = 10.0
_stop = threading.Event()


def _beat_forever(name: str) -> None:
    from django.db import connection

    from gpu_worker.monitor import device_describe
    from renders.services.workers import worker_alive

    device = device_describe()
    try:
        while True:
            try:
                worker_alive(name=name, device=device)
            except Exception:
                logger.exception("worker heartbeat failed; trying again")
            if _stop.wait(IDLE_HEARTBEAT_S):
                return
    finally:
        connection.close()


@worker_ready.connect
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    name = getattr(sender, "hostname", None) or "worker"
    _stop.clear()
    threading.Thread(target=_beat_forever, args=(name,), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def stop_heartbeat(**kwargs: Any) -> None:
    _stop.set()
