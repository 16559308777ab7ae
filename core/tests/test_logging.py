"""One JSON log line per request: method, path, status, duration, user id, client address; never
a token, a password or a query string."""

import json
import logging
import sys

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD
from core.logs import JSONFormatter

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_log(caplog):
    """The request log records of the test, as the JSON objects the console handler writes."""
    caplog.set_level(logging.INFO, logger="socialapi.requests")
    formatter = JSONFormatter()

    def lines() -> list[dict]:
        return [
            json.loads(formatter.format(record))
            for record in caplog.records
            if record.name == "socialapi.requests"
        ]

    return lines


def test_a_request_is_one_json_line_with_method_path_status_duration_user_and_address(
    request_log, auth_client, user
):
    auth_client.get("/users/me")

    [line] = request_log()[-1:]
    assert line["level"] == "INFO"
    assert line["logger"] == "socialapi.requests"
    assert line["message"].startswith("GET /users/me 200 ")
    assert {key: line[key] for key in ("method", "path", "status", "user_id", "remote_addr")} == {
        "method": "GET",
        "path": "/users/me",
        "status": 200,
        "user_id": user.pk,
        "remote_addr": "127.0.0.1",
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_anonymous_and_failed_requests_are_logged_with_their_status(request_log):
    client = APIClient(REMOTE_ADDR="203.0.113.7")

    client.get("/no/such/page")
    client.get("/posts/")
    client.post("/users/", {"email": "not-an-email"})

    assert [(line["path"], line["status"], line["user_id"]) for line in request_log()] == [
        ("/no/such/page", 404, None),
        ("/posts/", 401, None),
        ("/users/", 422, None),
    ]
    assert {line["remote_addr"] for line in request_log()} == {"203.0.113.7"}


def test_no_token_password_or_query_string_reaches_the_log(request_log, caplog, user):
    client = APIClient()
    tokens = client.post("/login", {"username": user.email, "password": PASSWORD}).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    client.get(f"/posts/?search=secret-search&access_token={tokens['access_token']}")
    client.post("/token/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")
    client.post("/login", {"username": user.email, "password": "wrong-secret-password"})

    written = "\n".join(JSONFormatter().format(record) for record in caplog.records)
    paths = [line["path"] for line in request_log()]
    assert paths == ["/login", "/posts/", "/token/refresh", "/login"]
    for secret in [
        PASSWORD,
        "wrong-secret-password",
        tokens["access_token"],
        tokens["refresh_token"],
        "secret-search",
        "Bearer",
    ]:
        assert secret not in written


def test_the_formatter_writes_extra_fields_and_tracebacks_but_not_objects():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("socialapi.test").makeRecord(
            "socialapi.test",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("thing",),
            sys.exc_info(),
            extra={"status": 500, "request": object()},
        )

    line = json.loads(JSONFormatter().format(record))

    assert line["message"] == "failed thing"
    assert line["level"] == "ERROR"
    assert line["status"] == 500
    assert "request" not in line
    assert "ValueError: boom" in line["exc_info"]


def test_logs_go_to_stdout_as_json():
    console = settings.LOGGING["handlers"]["console"]

    assert console["stream"] == "ext://sys.stdout"
    assert settings.LOGGING["formatters"][console["formatter"]] == {"()": "core.logs.JSONFormatter"}
    assert settings.MIDDLEWARE[0] == "core.middleware.RequestLogMiddleware"
