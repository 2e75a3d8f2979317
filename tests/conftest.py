"""Fixtures shared by the whole suite: callers of the API in each role.

Django imports stay inside the fixtures so the pure gpu_worker tests can run without
Django being set up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# The fault suite (tests/faults) starts and breaks real processes for minutes: it runs
# with `make faults` (PLITKA_FAULTS=1), not inside every `make test`.
collect_ignore = [] if os.environ.get("PLITKA_FAULTS") == "1" else ["faults"]


@pytest.fixture
def staff_user(db: Any) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username="staff", password="staff-pass-123", is_staff=True, is_superuser=True
    )


@pytest.fixture
def staff_client(staff_user: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(staff_user)
    return client


def key_client(name: str, scope: str, **kwargs: Any) -> Any:
    """An API client that sends a new key with this name and scope."""
    from rest_framework.test import APIClient

    from plitka_site.apikeys.models import ApiKey
    from plitka_site.apikeys.services import api_key_create

    class KeyClient(APIClient):
        """Also remembers the key it sends, for tests that revoke or inspect it."""

        api_key: ApiKey
        plaintext: str

    issued = api_key_create(name=name, scope=scope, **kwargs)
    client = KeyClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.plaintext}")
    client.api_key = issued.api_key
    client.plaintext = issued.plaintext
    return client


@pytest.fixture
def read_client(db: Any) -> Any:
    return key_client("storefront-read", "read")


@pytest.fixture
def render_client(db: Any) -> Any:
    return key_client("storefront-render", "render")


@pytest.fixture
def demo_catalog(db: Any) -> None:
    from catalog.services import demo_catalog_load

    demo_catalog_load()


@pytest.fixture(autouse=True)
def _redis_not_away() -> None:
    """Each test starts with Redis believed present (a test that breaks it trips the
    process's short "Redis away" pause, which must not leak into the next test)."""
    import plitka_site.redis_client as redis_client

    redis_client._away_until = 0.0


def _migrate(targets: list[tuple[str, str]]) -> Any:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def migrate(transactional_db: Any) -> Iterator[Callable[[list[tuple[str, str]]], Any]]:
    """Move the test database to a migration (returns its app registry); it is back at
    the latest one afterwards."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    yield _migrate
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
