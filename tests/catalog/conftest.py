"""Fixtures of the catalog tests: a signed-in staff client, and the broker that admin
actions which queue renders send to."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.renders.conftest import broker, broker_url  # noqa: F401 (fixtures)


@pytest.fixture
def admin_client(staff_user: Any) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client
