"""The shop's favicon: on the admin's pages and the home page, and at /favicon.ico."""

from __future__ import annotations


def test_pages_name_the_favicon_and_it_is_served(admin_client, client):
    for page in (admin_client.get("/admin/"), client.get("/")):
        assert b'rel="icon" href="/static/plitka/favicon.svg"' in page.content
    found = client.get("/favicon.ico")
    assert found.status_code == 301 and found.headers["Location"] == "/static/plitka/favicon.svg"
    icon = client.get("/static/plitka/favicon.svg")
    assert icon.status_code == 200 and b"<svg" in b"".join(icon.streaming_content)
