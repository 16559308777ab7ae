"""A private Redis server for tests that need the real one (the Debian package's binary).

Loaded by the root conftest (`pytest_plugins`). `redis_url` starts one server for the session;
`redis_cache` makes it the default cache (django-redis, as production with REDIS_URL) for one
test, emptied before and after. Without redis-server installed these tests are skipped, and
CI installs it (REQUIRE_REDIS=1 fails the run instead).
"""

import os
import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from core import cache as api_cache


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if shutil.which("redis-server") is None:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail("redis-server is not installed (REQUIRE_REDIS is set)")
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    directory = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def redis_cache(redis_url):
    """The private Redis as the default cache for this test, empty at its start and end."""
    backend = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": "tests",
    }
    with override_settings(CACHES={"default": backend}):
        cache.clear()
        api_cache.memory.clear()
        yield cache
        cache.clear()
    api_cache.memory.clear()
