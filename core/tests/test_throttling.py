"""429 with Retry-After past each rate: per client, per user, on sign-up and login, failed logins
per email; every rate from the environment."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from core.throttling import LoginEmailRateThrottle
from socialapi.settings import throttle_rate

BASE_DIR = Path(__file__).resolve().parents[2]
THROTTLE_VARIABLES = {
    "THROTTLE_ANON": "anon",
    "THROTTLE_USER": "user",
    "THROTTLE_SIGNUP": "signup",
    "THROTTLE_LOGIN": "login",
    "THROTTLE_LOGIN_EMAIL": "login_email",
    "THROTTLE_COMMENT": "comment",
}


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rates(settings):
    """Set some throttle rates for this test, as THROTTLE_* would."""

    def set_rates(**changed):
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**current, **changed},
        }

    return set_rates


def client_at(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def sign_up(client: APIClient, n: int):
    return client.post("/users/", {"email": f"new{n}@example.com", "password": PASSWORD})


def log_in(client: APIClient, email: str, password: str = PASSWORD):
    return client.post("/login", {"username": email, "password": password})


def assert_throttled(response, *, max_wait: int) -> int:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["detail"]
    assert body["detail"].startswith("Request was throttled.")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= max_wait
    assert f"{retry_after} second" in body["detail"]
    return retry_after


# Per client and per user, every endpoint -------------------------------------------------


def test_anonymous_client_past_its_rate_gets_429_and_another_client_does_not(rates, user):
    rates(anon="2/min")
    client = client_at("203.0.113.1")

    assert [client.get(f"/users/{user.pk}").status_code for _ in range(2)] == [200, 200]
    assert_throttled(client.get(f"/users/{user.pk}"), max_wait=60)
    assert client_at("203.0.113.2").get(f"/users/{user.pk}").status_code == 200


def test_user_past_their_rate_gets_429_and_another_user_at_the_same_address_does_not(
    rates, auth_client, other_client
):
    rates(user="2/min")

    assert [auth_client.get("/users/me").status_code for _ in range(2)] == [200, 200]
    assert_throttled(auth_client.get("/users/me"), max_wait=60)
    assert other_client.get("/users/me").status_code == 200


def test_a_failing_throttle_cache_lets_requests_through_instead_of_failing_them(
    rates, auth_client, monkeypatch
):
    rates(user="1/min")

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "incr", broken)

    assert [auth_client.get("/users/me").status_code for _ in range(3)] == [200, 200, 200]


def test_throttling_counts_the_socket_address_not_a_forwarded_for_header_by_default(rates, user):
    rates(anon="1/min")
    client = APIClient()

    assert client.get(f"/users/{user.pk}", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    response = client.get(f"/users/{user.pk}", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert_throttled(response, max_wait=60)


def test_behind_a_proxy_num_proxies_makes_the_forwarded_client_the_one_counted(
    rates, settings, user
):
    rates(anon="1/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")

    first = proxy.get(f"/users/{user.pk}", HTTP_X_FORWARDED_FOR="198.51.100.1")
    second = proxy.get(f"/users/{user.pk}", HTTP_X_FORWARDED_FOR="198.51.100.2")
    again = proxy.get(f"/users/{user.pk}", HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert (first.status_code, second.status_code) == (200, 200)
    assert_throttled(again, max_wait=60)


# Sign-up and login, per client -----------------------------------------------------------


def test_sign_up_past_its_rate_gets_429_per_client(rates, django_user_model):
    rates(signup="2/min")
    client = client_at("203.0.113.1")

    assert [sign_up(client, n).status_code for n in range(2)] == [201, 201]
    assert_throttled(sign_up(client, 2), max_wait=60)
    assert django_user_model.objects.count() == 2
    assert sign_up(client_at("203.0.113.2"), 3).status_code == 201
    assert client.get("/").status_code == 200  # only the sign-up scope is spent


def test_login_past_its_rate_gets_429_per_client_even_with_the_right_password(rates, user):
    rates(login="2/min")
    client = client_at("203.0.113.1")

    assert [log_in(client, user.email).status_code for _ in range(2)] == [200, 200]
    assert_throttled(log_in(client, user.email), max_wait=60)
    assert log_in(client_at("203.0.113.2"), user.email).status_code == 200


# Failed logins, per email ----------------------------------------------------------------


def test_failed_logins_for_an_email_block_it_from_every_address_even_with_the_right_password(
    rates, user
):
    rates(login_email="3/hour")
    addresses = [f"203.0.113.{n}" for n in range(1, 5)]

    for address in addresses[:3]:
        response = log_in(client_at(address), user.email, "wrong-password")
        assert response.status_code == 403
        assert response.json() == {"detail": "Invalid Credentials"}
    blocked = log_in(client_at(addresses[3]), user.email)

    assert assert_throttled(blocked, max_wait=3600) > 3500
    assert "access_token" not in blocked.json()
    assert log_in(client_at(addresses[3]), UserFactory().email).status_code == 200


def test_failed_logins_count_per_email_whatever_its_case_and_field(rates, user):
    rates(login_email="2/hour")
    client = client_at("203.0.113.1")

    assert log_in(client, user.email.upper(), "wrong-password").status_code == 403
    json_login = {"email": f"  {user.email.title()} ", "password": "wrong-password"}
    assert client.post("/login", json_login, format="json").status_code == 403

    assert_throttled(log_in(client, user.email), max_wait=3600)


def test_successful_logins_do_not_spend_the_email_budget(rates, user):
    rates(login_email="2/hour")
    client = client_at("203.0.113.1")

    assert [log_in(client, user.email).status_code for _ in range(5)] == [200] * 5


def test_failures_for_an_unknown_email_are_counted_too(rates, db):
    rates(login_email="2/hour")
    client = client_at("203.0.113.1")

    statuses = [log_in(client, "nobody@example.com", "guess").status_code for _ in range(3)]

    assert statuses == [403, 403, 429]


def test_failed_authentication_anywhere_counts_such_as_the_admin_login(rates, user):
    rates(login_email="2/hour")

    for _ in range(2):
        assert authenticate(None, username=user.email, password="wrong-password") is None

    assert_throttled(log_in(APIClient(), user.email), max_wait=3600)


def test_the_email_is_let_in_again_once_the_window_has_passed(rates, user):
    rates(login_email="1/sec")
    client = APIClient()

    assert log_in(client, user.email, "wrong-password").status_code == 403
    assert_throttled(log_in(client, user.email), max_wait=1)
    time.sleep(1.1)

    assert log_in(client, user.email).status_code == 200


def test_the_default_stops_a_password_guessing_run_well_before_60_tries(settings, user):
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login_email"]
    limit = int(rate.split("/")[0])
    client = APIClient()

    statuses = [log_in(client, user.email, f"guess-{n}").status_code for n in range(20)]

    assert limit <= 10
    assert statuses == [403] * limit + [429] * (20 - limit)
    assert_throttled(log_in(client, user.email), max_wait=86400)


# The cache behind the counters ------------------------------------------------------------


def test_with_redis_every_worker_shares_the_failed_login_budget(rates, redis_cache, user):
    rates(login_email="2/hour", login="3/min")
    client = APIClient()

    statuses = [log_in(client, user.email, "wrong-password").status_code for _ in range(2)]
    blocked = log_in(client, user.email)
    other_email = log_in(client, UserFactory().email)  # the 4th login from this client
    failures = redis_cache.get(LoginEmailRateThrottle().key_for(user.email))

    assert statuses == [403, 403]
    assert assert_throttled(blocked, max_wait=3600) > 3500
    assert_throttled(other_email, max_wait=60)
    assert failures == 2


def test_the_cache_is_redis_when_redis_url_is_set_and_local_memory_otherwise():
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CACHES['default']))"
    )
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "socialapi.settings"

    results = [
        subprocess.run(
            [sys.executable, "-c", script], cwd=BASE_DIR, env=env | extra, capture_output=True
        )
        for extra in ({}, {"REDIS_URL": "redis://cache.internal:6379/1"})
    ]

    local, redis = (json.loads(result.stdout.splitlines()[-1]) for result in results)
    assert local["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert redis["BACKEND"] == "django_redis.cache.RedisCache"
    assert redis["LOCATION"] == "redis://cache.internal:6379/1"


# Rates from the environment --------------------------------------------------------------


def test_each_rate_comes_from_its_environment_variable():
    overrides = {name: f"{n + 1}/hour" for n, name in enumerate(THROTTLE_VARIABLES)}
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "socialapi.settings", **overrides}

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    rates = json.loads(result.stdout.splitlines()[-1])
    assert rates == {scope: overrides[name] for name, scope in THROTTLE_VARIABLES.items()}


def test_a_rate_from_the_environment_is_read_at_startup(monkeypatch):
    monkeypatch.setenv("THROTTLE_LOGIN", " 5/min ")
    assert throttle_rate("THROTTLE_LOGIN", default="60/min") == "5/min"
    monkeypatch.delenv("THROTTLE_LOGIN")
    assert throttle_rate("THROTTLE_LOGIN", default="60/min") == "60/min"


@pytest.mark.parametrize("value", ["20", "20/fortnight", "many/min", "/min", "20/min/2", ""])
def test_a_rate_drf_could_not_read_stops_the_startup(monkeypatch, value):
    monkeypatch.setenv("THROTTLE_ANON", value)

    with pytest.raises(ImproperlyConfigured, match="THROTTLE_ANON"):
        throttle_rate("THROTTLE_ANON", default="60/min")
