"""The error envelope, schema and docs shared by every endpoint."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_unknown_api_path_is_a_json_404_in_the_envelope():
    response = Client().get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_method_not_allowed_uses_the_envelope(read_client):
    response = read_client.delete("/api/v1/colors/RED/")
    assert response.status_code in {403, 405}
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_openapi_schema_is_valid_and_lists_the_contract(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in [
        "/api/v1/colors/",
        "/api/v1/products/",
        "/api/v1/recipes/",
        "/api/v1/recipes/{id}/",
        "/api/v1/renders/",
        "/api/v1/renders/{id}/",
        "/api/v1/renders/{id}/cancel/",
        "/api/v1/workers/",
    ]:
        assert f"{path}:" in text


def test_every_operation_documents_its_errors_in_the_envelope(tmp_path):
    import yaml

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    envelope = "#/components/schemas/ErrorEnvelope"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"400", "401", "403", "404", "406", "429"}
            if method == "post":
                expected |= {"413", "415"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for code in expected:
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref == envelope, (method, path, code)
    submit = schema["paths"]["/api/v1/renders/"]["post"]["responses"]
    assert {"200", "201", "422"} <= set(submit)
    assert "409" in schema["paths"]["/api/v1/renders/{id}/cancel/"]["post"]["responses"]


def test_docs_page_is_served_without_a_cdn(staff_client):
    page = staff_client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger" in html.lower()
    assert "cdn.jsdelivr" not in html


def test_home_page_links_admin_and_docs():
    html = Client().get("/").content.decode()
    assert "/admin/" in html and "/api/docs/" in html
