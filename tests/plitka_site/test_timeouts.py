"""Every network call the web process makes is bounded (issue 11, item 5)."""

from __future__ import annotations

import pytest
from django.db import connection

from plitka_site.redis_client import SOCKET_TIMEOUT_S, redis_client


def test_postgresql_statements_and_connects_have_a_time_limit(db):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite is a file, not a connection")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (limit,) = cursor.fetchone()
    assert limit not in {"0", "0ms"}
    assert connection.settings_dict["OPTIONS"]["connect_timeout"] > 0


def test_the_web_process_redis_pool_has_short_timeouts():
    kwargs = redis_client().connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == SOCKET_TIMEOUT_S
    assert kwargs["socket_connect_timeout"] == SOCKET_TIMEOUT_S
    assert SOCKET_TIMEOUT_S <= 0.5


def test_a_database_that_does_not_answer_is_a_503_with_retry_after(render_client, monkeypatch):
    from django.db import OperationalError

    from renders.api import views

    def cut(**kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(views, "render_job_list", cut)
    answer = render_client.get("/api/v1/renders/")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["error"]["code"] == "unavailable"
