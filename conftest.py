"""Fixtures every app's tests share: users, clients and real tokens from the login endpoint."""

import time

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from core.throttling import FixedWindowMixin


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Argon2 is deliberately slow; tests check behaviour, not hashing cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _throttle_windows_stand_still(monkeypatch):
    # Per-client and per-user rates count in fixed windows (a minute, an hour): a test that
    # crossed a boundary would see its count start again. Their clock stands still in a test,
    # one second into the current day.
    start = time.time() // 86400 * 86400 + 1
    monkeypatch.setattr(FixedWindowMixin, "timer", lambda self: start, raising=False)


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The cache holds the throttle counters: each test starts with every budget full.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


def login(client: APIClient, user, password: str = PASSWORD) -> dict:
    """Log `user` in through POST /login and return the token body."""
    response = client.post("/login", {"username": user.email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def authorize(client: APIClient, user) -> APIClient:
    tokens = login(client, user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    return client


@pytest.fixture
def auth_client(user):
    """A client holding a real access token of `user`, obtained from the login endpoint."""
    return authorize(APIClient(), user)


@pytest.fixture
def other_client(other_user):
    return authorize(APIClient(), other_user)


# --- Browser tests and a private Redis --------------------------------------------------------
# The `browser` and `live_browser` fixtures and the `browser` marker (headless Debian Chromium);
# `redis_url` and `redis_cache` (core/tests/redis_server.py).
pytest_plugins = ["core.tests.browser", "core.tests.redis_server"]
