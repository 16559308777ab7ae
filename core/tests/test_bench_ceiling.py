"""/bench/ceiling: the benchmark's constant JSON view, routed only while BENCH_CEILING is on."""

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
@pytest.mark.parametrize("path", ["/bench/ceiling", "/bench/ceiling/"])
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
