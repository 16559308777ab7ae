"""GET /healthz: 200 while the database answers, else 503 in JSON; open to all, never throttled."""

import logging

import pytest
from django.db import InterfaceError, OperationalError, connections
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("path", ["/healthz", "/healthz/"])
def test_healthz_answers_200_ok_while_the_database_answers(path):
    response = APIClient().get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_healthz_answers_503_in_json_when_the_database_fails(monkeypatch, caplog, error):
    def broken_cursor(self, *args, **kwargs):
        raise error("could not connect to server: Connection refused")

    monkeypatch.setattr(type(connections["default"]), "cursor", broken_cursor)

    with caplog.at_level(logging.WARNING, logger="socialapi.health"):
        response = APIClient().get("/healthz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "unavailable", "detail": "database unavailable"}
    assert [record.levelname for record in caplog.records if record.name == "socialapi.health"] == [
        "WARNING"
    ]


def test_healthz_needs_no_credentials_and_ignores_bad_ones():
    response = APIClient().get("/healthz", HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_never_throttled(settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1/min", "user": "1/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = APIClient()

    statuses = [client.get("/healthz").status_code for _ in range(5)]

    assert statuses == [200] * 5
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 429  # the same client, throttled elsewhere


def test_healthz_answers_head_and_refuses_other_methods():
    client = APIClient()

    assert client.head("/healthz").status_code == 200
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}
