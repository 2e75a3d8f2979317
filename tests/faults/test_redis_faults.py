"""Redis (the broker, and the web's notifications and counters) refusing connections, or
accepting them and never answering, while a job runs and while clients submit: submits are
still answered at once (the jobs wait in the database), and every job is rendered once
Redis is back."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import Stack, now
from tests.faults.tcp_proxy import FaultyTcpProxy

OUTAGE_S = 4.0


@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_jobs_survive_a_redis_outage(proxied_stack: tuple[Stack, FaultyTcpProxy], mode) -> None:
    stack, proxy = proxied_stack
    stack.beat()
    stack.worker("alpha", render_s=2)
    running = stack.submit(first_seed=1)
    stack.wait_running(running[0])
    proxy.set_mode(mode)
    during = []
    for seed in (2, 3):
        asked = time.monotonic()
        during += stack.submit(first_seed=seed)
        took = time.monotonic() - asked
        assert took < 1.5, f"a submit took {took:.1f} s with Redis {mode}"
    time.sleep(OUTAGE_S)
    proxy.set_mode("pass")
    back = now()
    stack.wait_finished(running + during, timeout=90)
    label = "refusing connections" if mode == "refuse" else "accepting, never answering"
    stack.audit(running + during, fault=f"Redis {label} for {OUTAGE_S:.0f} s", since=back)
    stack.still_serving()
