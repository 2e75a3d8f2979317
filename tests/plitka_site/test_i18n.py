"""Russian and English (issue 12, item 8): the admin, the dashboard, the configurator and
the API's messages follow Accept-Language; error codes stay the same; the shipped
translations are complete and compiled."""

from __future__ import annotations

import gettext
from pathlib import Path

import polib  # type: ignore[import-untyped]
import pytest

from tests.conftest import key_client

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "ru" / "LC_MESSAGES"
RU = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9,en;q=0.5"}


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_message_is_translated_and_the_compiled_file_is_current(domain):
    """`make messages` writes both; a .po edited without compiling would ship stale text."""
    po = polib.pofile(str(LOCALE / f"{domain}.po"))
    assert po.untranslated_entries() == [] and po.fuzzy_entries() == []
    with open(LOCALE / f"{domain}.mo", "rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    for entry in po.translated_entries():
        if entry.msgid_plural:
            for n, form in ((1, "0"), (3, "1"), (5, "2")):
                assert (
                    catalog.ngettext(entry.msgid, entry.msgid_plural, n)
                    == entry.msgstr_plural[int(form)]
                )
        else:
            assert catalog.gettext(entry.msgid) == entry.msgstr, entry.msgid


def test_the_admin_speaks_russian_to_a_russian_browser_and_english_otherwise(admin_client):
    russian = admin_client.get("/admin/", **RU).content.decode()
    assert "Рендеры" in russian and "Задания рендера" in russian
    assert "Рецепты цвета" in russian and "Панель эксплуатации" in russian
    english = admin_client.get("/admin/").content.decode()
    assert "Render jobs" in english and "Operations dashboard" in english
    jobs = admin_client.get("/admin/renders/renderjob/", **RU).content.decode()
    assert "Выберите задание рендера" in jobs and "статус" in jobs  # its filter


def test_the_dashboard_in_russian(admin_client):
    page = admin_client.get("/admin/operations/", **RU).content.decode()
    assert "Завершено за последний час" in page and "Воркеры" in page
    assert "Рендеры по дням и статусам" in page  # the chart's title too


def test_api_errors_follow_accept_language_and_keep_their_codes(db, demo_catalog):
    client = key_client("shop", "render")
    body = {"name": "Bad", "components": "RED:60,BLACK:39"}
    english = client.post("/api/v1/recipes/", body, format="json").json()["error"]
    russian = client.post("/api/v1/recipes/", body, format="json", **RU).json()["error"]
    assert english["code"] == russian["code"] == "invalid"
    assert "the percents sum to 99; they must sum to exactly 100" in english["message"]
    assert "сумма процентов 99; она должна быть ровно 100" in russian["message"]
    unknown = client.post(
        "/api/v1/recipes/", {"name": "X", "components": "PURPLE:100"}, format="json", **RU
    ).json()["error"]
    assert "неизвестный цвет 'PURPLE'; может быть, VIOLET" in unknown["message"]
    stranger = key_client("x", "read")
    stranger.credentials(HTTP_AUTHORIZATION="Api-Key nope")
    refused = stranger.get("/api/v1/colors/", **RU)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "API-ключ неизвестен или отозван."
    # DRF's own messages come translated as well.
    missing = client.get("/api/v1/renders/00000000-0000-0000-0000-000000000000/", **RU)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_configurator_and_its_script_speak_russian(client, db):
    page = client.get("/configurator/", **RU).content.decode()
    assert "Конфигуратор плитки" in page and 'lang="ru"' in page
    catalog = client.get("/jsi18n/", **RU).content.decode()
    assert "\\u0423\\u0431\\u0440\\u0430\\u0442\\u044c" in catalog or "Убрать" in catalog
