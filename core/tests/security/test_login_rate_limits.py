"""API4 Unrestricted resource consumption, at the login: password guessing has a budget.

core/tests/test_throttling.py checks each throttle one request after another: the per-client
login rate (THROTTLE_LOGIN), the failed-login budget per email (THROTTLE_LOGIN_EMAIL) from any
address and in any spelling, its default stopping a guessing run before 60 tries. Attackers do
not wait for answers: this module sends the guesses at once, and spread over many emails.
"""

import time
from collections import Counter

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from posts.tests.test_concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(email: str, password: str, address: str = "203.0.113.1"):
    return APIClient(REMOTE_ADDR=address).post("/login", {"username": email, "password": password})


class SlowHasher(MD5PasswordHasher):
    """As slow as Argon2 in production, without its 100 MiB per check: guesses overlap."""

    def verify(self, password, encoded):
        time.sleep(0.05)  # lets the other threads run, as Argon2 does while it hashes
        return super().verify(password, encoded)


@pytest.fixture
def production_hashing(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.SlowHasher"]


def default_rate(settings, scope: str) -> int:
    return int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope].split("/")[0])


def test_parallel_guesses_at_one_email_get_no_more_tries_than_its_budget(
    settings, production_hashing
):
    budget = default_rate(settings, "login_email")
    victim = UserFactory()
    guesses = 3 * budget
    jobs = [
        (lambda n=n: log_in(victim.email, f"guess-{n}", f"203.0.113.{n + 1}"))
        for n in range(guesses)
    ]

    statuses = Counter(response.status_code for response in run_at_once(jobs))

    assert statuses[403] <= budget, statuses
    assert statuses[403] + statuses[429] == guesses
    blocked = log_in(victim.email, PASSWORD, "198.51.100.1")
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) >= 1


def test_parallel_right_and_wrong_logins_never_lock_the_owner_out_below_the_budget(
    settings, production_hashing
):
    budget = default_rate(settings, "login_email")
    owner = UserFactory()
    jobs = [lambda: log_in(owner.email, PASSWORD)] * 3 + [
        (lambda n=n: log_in(owner.email, f"guess-{n}", f"203.0.113.{n + 1}"))
        for n in range(budget - 4)
    ]

    statuses = Counter(response.status_code for response in run_at_once(jobs))

    assert statuses == {200: 3, 403: budget - 4}
    assert log_in(owner.email, PASSWORD).status_code == 200


def test_credential_stuffing_from_one_client_meets_the_login_rate(settings):
    # One address, a different email each time: the per-email budgets never fill up, the
    # per-client login rate does.
    rate = default_rate(settings, "login")

    statuses = [log_in(f"leaked{n}@example.com", "hunter2").status_code for n in range(rate + 5)]

    assert statuses == [403] * rate + [429] * 5


def test_the_login_429_is_json_with_retry_after_as_documented(settings, api_client):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_email": "1/hour",
        },
    }
    victim = UserFactory()
    log_in(victim.email, "wrong")

    response = log_in(victim.email, PASSWORD)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["detail"]
    assert 1 <= int(response["Retry-After"]) <= 3600
    documented = api_client.get("/openapi.json").json()["paths"]["/login"]["post"]["responses"]
    assert "429" in documented
