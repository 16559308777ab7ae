"""/bench/ceiling and /bench/floor: the benchmark's constant JSON views, routed only while
BENCH_CEILING is on."""

import importlib

import pytest
from django.test import override_settings
from django.urls import clear_url_caches
from rest_framework.test import APIClient

import socialapi.urls


@pytest.fixture
def ceiling_routed():
    """The project URLconf rebuilt with BENCH_CEILING on, and rebuilt as it was afterwards."""
    with override_settings(BENCH_CEILING=True):
        importlib.reload(socialapi.urls)
        clear_url_caches()
        yield
    importlib.reload(socialapi.urls)
    clear_url_caches()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/bench/ceiling", "/bench/ceiling/", "/bench/floor"])
def test_bench_ceiling_is_a_json_404_while_the_setting_is_off(settings, path):
    assert settings.BENCH_CEILING is False

    response = APIClient().get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/bench/ceiling", "/bench/ceiling/"])
def test_bench_ceiling_answers_a_constant_json_body_when_on(ceiling_routed, path):
    response = APIClient().get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"ok": True}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/bench/floor", "/bench/floor/"])
def test_bench_floor_answers_the_constant_body_to_a_member(ceiling_routed, auth_client, path):
    response = auth_client.get(path)

    assert response.status_code == 200
    assert response.json() == {"ok": True}


@pytest.mark.django_db
def test_bench_floor_authenticates_and_counts_like_the_api(
    ceiling_routed, api_client, auth_client, settings
):
    """Its cost is only a floor if it does what every API read does: the token, the rates."""
    assert api_client.get("/bench/floor").status_code == 401

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "user": "2/min"},
    }
    statuses = [auth_client.get("/bench/floor").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


@pytest.mark.django_db
def test_neither_view_is_in_the_schema_even_when_routed(ceiling_routed):
    paths = APIClient().get("/openapi.json").json()["paths"]

    assert paths  # the API's own operations are there
    assert not [path for path in paths if path.startswith("/bench")]
