"""GET /metrics: only for the monitoring system (an allowed address or the token), and what a
scrape tells: requests, latency, queries per database, the read cache, throttled requests, summed
over every gunicorn worker."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from core import cache as api_cache
from posts.tests.factories import PostFactory
from socialapi.settings import ip_networks

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
NOT_FOUND = {"detail": "Not Found"}


def scrape_text(text: str) -> dict:
    """{(sample name, frozenset of its labels): value} of a scrape in Prometheus's text format."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape() -> dict:
    response = APIClient(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 200, response.content
    return scrape_text(response.content.decode())


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_answered(samples: dict, *, view: str, method: str, status: int) -> float:
    return value(
        samples,
        "django_http_responses_total_by_status_view_method_total",
        view=view,
        method=method,
        status=str(status),
    )


# Who may scrape -----------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_loopback_gets_the_metrics_in_prometheus_text_format(address):
    response = APIClient(REMOTE_ADDR=address).get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "django_http_requests_total_by_method_total" in response.content.decode()


@pytest.mark.parametrize("path", ["/metrics", "/metrics/"])
def test_any_other_address_gets_the_json_404_of_an_unknown_path(path):
    client = APIClient(REMOTE_ADDR="203.0.113.7")

    response = client.get(path)
    unknown = client.get("/no-such-page")

    assert response.status_code == unknown.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == unknown.json() == NOT_FOUND
    assert b"django_http" not in response.content


def test_behind_a_proxy_the_forwarded_client_is_checked_not_the_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = APIClient(REMOTE_ADDR="127.0.0.1")  # nginx on the same host

    from_outside = proxy.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.7")
    # A client's own X-Forwarded-For comes first; the proxy appends the address it saw.
    spoofed = proxy.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.7")
    from_the_host = proxy.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert (from_outside.status_code, from_outside.json()) == (404, NOT_FOUND)
    assert (spoofed.status_code, spoofed.json()) == (404, NOT_FOUND)
    assert from_the_host.status_code == 200


def test_without_a_proxy_a_forwarded_for_header_changes_nothing():
    response = APIClient(REMOTE_ADDR="203.0.113.7").get(
        "/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1"
    )

    assert response.status_code == 404


def test_allowed_addresses_may_be_networks_and_replace_the_loopback_default(settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "2001:db8::/32"]

    assert APIClient(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert APIClient(REMOTE_ADDR="2001:db8::5").get("/metrics").status_code == 200
    assert APIClient(REMOTE_ADDR="11.0.0.1").get("/metrics").status_code == 404
    assert APIClient(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404


def test_the_token_lets_any_address_scrape_and_a_wrong_one_gets_404(settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    client = APIClient(REMOTE_ADDR="203.0.113.7")

    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-tokeN")
    other_scheme = client.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-scrape-token")
    not_ascii = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-tokén")
    none = client.get("/metrics")

    assert right.status_code == 200
    assert "django_http_requests_total_by_method_total" in right.content.decode()
    for refused in (wrong, other_scheme, not_ascii, none):
        assert (refused.status_code, refused.json()) == (404, NOT_FOUND)


def test_without_a_token_set_an_empty_bearer_token_is_refused(settings):
    settings.METRICS_TOKEN = ""

    response = APIClient(REMOTE_ADDR="203.0.113.7").get("/metrics", HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 404


def test_only_get_and_head_are_answered_and_only_to_those_allowed():
    allowed = APIClient(REMOTE_ADDR="127.0.0.1")
    outsider = APIClient(REMOTE_ADDR="203.0.113.7")

    assert allowed.head("/metrics").status_code == 200
    post = allowed.post("/metrics")
    assert (post.status_code, post["Allow"]) == (405, "GET, HEAD")
    assert post.json() == {"detail": 'Method "POST" not allowed.'}
    refused = outsider.post("/metrics")
    assert (refused.status_code, refused.json()) == (404, NOT_FOUND)


def test_metrics_are_not_part_of_the_api_schema(api_client):
    paths = api_client.get("/openapi.json").json()["paths"]

    assert "/healthz" in paths
    assert not [path for path in paths if path.startswith("/metrics")]


def test_allowed_addresses_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("METRICS_ALLOWED_IPS", " 10.0.0.0/8 , 192.0.2.1,")
    assert ip_networks("METRICS_ALLOWED_IPS", default=[]) == ["10.0.0.0/8", "192.0.2.1"]
    monkeypatch.delenv("METRICS_ALLOWED_IPS")
    assert ip_networks("METRICS_ALLOWED_IPS", default=["127.0.0.1"]) == ["127.0.0.1"]


@pytest.mark.parametrize("value", ["localhost", "10.0.0.0/33", "300.1.1.1"])
def test_an_allowed_address_that_is_not_one_stops_the_startup(monkeypatch, value):
    monkeypatch.setenv("METRICS_ALLOWED_IPS", f"127.0.0.1,{value}")

    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_IPS"):
        ip_networks("METRICS_ALLOWED_IPS", default=[])


# What a scrape tells ------------------------------------------------------------------------


def test_a_scrape_counts_requests_by_view_method_and_status_with_their_latency(auth_client):
    post = PostFactory()
    before = scrape()

    for _ in range(3):
        assert auth_client.get("/posts/").status_code == 200
    assert auth_client.get(f"/posts/{post.pk}").status_code == 200
    assert auth_client.get("/posts/999999999").status_code == 404
    after = scrape()

    def added(**labels):
        return requests_answered(after, **labels) - requests_answered(before, **labels)

    assert added(view="post-list", method="GET", status=200) == 3
    assert added(view="post-detail", method="GET", status=200) == 1
    assert added(view="post-detail", method="GET", status=404) == 1
    latency = "django_http_requests_latency_seconds_by_view_method"
    buckets = {
        dict(labels)["le"]
        for name, labels in after
        if name == f"{latency}_bucket" and dict(labels)["view"] == "post-list"
    }
    assert {"0.001", "0.01", "0.1", "1.0", "30.0", "+Inf"} <= buckets
    seen = value(after, f"{latency}_count", view="post-list", method="GET")
    assert seen - value(before, f"{latency}_count", view="post-list", method="GET") == 3
    assert value(after, f"{latency}_bucket", view="post-list", method="GET", le="+Inf") == seen


def test_a_scrape_counts_database_queries_by_alias(auth_client):
    PostFactory()
    labels = {"alias": "default", "vendor": connection.vendor}
    before = scrape()

    with CaptureQueriesContext(connection) as queries:
        assert auth_client.get("/posts/").status_code == 200
    executed = len(queries)  # read before the scrape, a request, clears the log
    after = scrape()

    assert executed > 0
    added = value(after, "django_db_execute_total", **labels)
    added -= value(before, "django_db_execute_total", **labels)
    assert added == executed


@pytest.mark.parametrize("store", ["local memory", "redis"])
def test_a_scrape_counts_the_read_cache_hits_and_misses(request, settings, auth_client, store):
    settings.API_CACHE = True
    if store == "redis":
        request.getfixturevalue("redis_cache")
    api_cache.memory.clear()
    post = PostFactory()
    name = "socialapi_read_cache_total"
    start = scrape()

    assert auth_client.get(f"/posts/{post.pk}").status_code == 200  # computed, then kept
    cold = scrape()
    for _ in range(2):  # the caller's likes and blocks are kept on their next reads
        assert auth_client.get(f"/posts/{post.pk}").status_code == 200
    warm = scrape()
    assert auth_client.get(f"/posts/{post.pk}").status_code == 200  # all from the cache
    again = scrape()

    assert value(cold, name, result="miss") > value(start, name, result="miss")
    assert value(cold, name, result="hit") == value(start, name, result="hit")
    assert value(again, name, result="hit") > value(warm, name, result="hit")
    assert value(again, name, result="miss") == value(warm, name, result="miss")


def test_with_the_cache_off_nothing_is_counted_as_a_cache_read(settings, auth_client):
    settings.API_CACHE = False
    post = PostFactory()
    before = scrape()

    assert auth_client.get(f"/posts/{post.pk}").status_code == 200
    after = scrape()

    for result in ("hit", "miss"):
        name = "socialapi_read_cache_total"
        assert value(after, name, result=result) == value(before, name, result=result)


def test_a_scrape_counts_throttled_requests_by_scope(settings, user):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "anon": "1/min"},
    }
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    name = "socialapi_throttled_requests_total"
    before = scrape()

    assert client.get(f"/users/{user.pk}").status_code == 200
    assert client.get(f"/users/{user.pk}").status_code == 429
    assert client.get(f"/users/{user.pk}").status_code == 429
    after = scrape()

    assert value(after, name, scope="anon") - value(before, name, scope="anon") == 2
    assert value(after, name, scope="user") == value(before, name, scope="user")
    answered = requests_answered(after, view="user-detail", method="GET", status=429)
    assert answered - requests_answered(before, view="user-detail", method="GET", status=429) == 2


# Under gunicorn, with several workers -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def gunicorn_two_workers(tmp_path):
    """The production gunicorn.conf.py with two workers; yields its port."""
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "DEBUG": "false",
        "SECRET_KEY": "metrics-test-secret-key-that-is-long-enough-for-hs256",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.sqlite3'}",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(gunicorn), "socialapi.wsgi"], cwd=BASE_DIR, env=env, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_scrape_through_gunicorn_sums_every_workers_counts(gunicorn_two_workers):
    port = gunicorn_two_workers
    before = scrape_text(_get(port, "/metrics")[1].decode())
    # A request whose end has not been sent yet holds one worker, so the next five go to the
    # other; then the held one is finished. Each worker has served some of the six.
    held = socket.create_connection(("127.0.0.1", port), timeout=10)
    held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(0.3)
    statuses = [_get(port, "/healthz")[0] for _ in range(5)]
    held.sendall(b"Connection: close\r\n\r\n")
    assert held.recv(64).startswith(b"HTTP/1.1 200")
    held.close()

    # Whichever worker answers each scrape, it reports all six.
    scrapes = [scrape_text(_get(port, "/metrics")[1].decode()) for _ in range(4)]

    assert statuses == [200] * 5
    for after in scrapes:
        added = requests_answered(after, view="health", method="GET", status=200)
        added -= requests_answered(before, view="health", method="GET", status=200)
        assert added == 6
