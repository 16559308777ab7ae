"""API8 Security misconfiguration: no debug pages, safe headers, CORS exactly as configured.

core/tests/test_security.py runs `check --deploy` with the documented production variables and
checks HTTPS behind a proxy; core/tests/test_errors.py has a crash answered in JSON with DEBUG
on and off. This module checks that DEBUG never turns an error into Django's HTML pages, the
headers every answer carries, and CORS: any origin by default, only the listed ones otherwise.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[3]
APP = "https://app.example.com"
EVIL = "https://evil.example.net"


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("get", "/no/such/page", None, 404),
        ("get", "/static/../socialapi/settings.py", None, 404),
        ("get", "/users/999999", None, 404),
        ("get", "/users/abc", None, 422),
        ("delete", "/users/me", None, 405),
        ("get", "/users/me", None, 401),
        ("post", "/users/", "<xml/>", 415),
        ("post", "/login", "{}", 422),
        ("post", "/login", "{", 422),
    ],
)
def test_errors_are_json_never_a_debug_page_whatever_debug_says(
    settings, debug, method, path, body, status
):
    settings.DEBUG = debug
    client = APIClient()
    client.raise_request_exception = False
    content_type = "application/xml" if body == "<xml/>" else "application/json"

    if body is None:
        response = getattr(client, method)(path)
    else:
        response = getattr(client, method)(path, body, content_type=content_type)

    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    text = response.content.decode()
    assert "Traceback" not in text and "DEBUG = True" not in text and "<html" not in text
    assert "detail" in response.json()


def test_debug_is_off_in_the_test_settings_as_in_production(settings):
    assert settings.DEBUG is False


def test_answers_carry_the_security_headers(db):
    response = APIClient().get("/healthz")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Server" not in response and "X-Powered-By" not in response


# CORS -------------------------------------------------------------------------------------


def preflight(origin: str):
    return APIClient().options(
        "/posts/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


@pytest.mark.parametrize("origin", [APP, EVIL, "http://localhost:3000"])
def test_by_default_any_origin_may_call_the_api_without_credentials(origin):
    simple = APIClient().get("/", HTTP_ORIGIN=origin)
    check = preflight(origin)

    assert simple["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in simple  # a wildcard never with cookies
    assert check.status_code == 200
    assert check["Access-Control-Allow-Origin"] == "*"
    assert "POST" in check["Access-Control-Allow-Methods"]
    assert "authorization" in check["Access-Control-Allow-Headers"]


@override_settings(CORS_ALLOWED_ORIGINS=[APP], CORS_ALLOW_ALL_ORIGINS=False)
def test_with_allowed_origins_only_those_get_access_control_allow_origin():
    allowed = APIClient().get("/", HTTP_ORIGIN=APP)
    refused = APIClient().get("/", HTTP_ORIGIN=EVIL)
    lookalike = APIClient().get("/", HTTP_ORIGIN=APP + ".evil.example.net")

    assert allowed["Access-Control-Allow-Origin"] == APP
    assert "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Origin" not in lookalike
    assert preflight(APP)["Access-Control-Allow-Origin"] == APP
    assert "Access-Control-Allow-Origin" not in preflight(EVIL)


def settings_from_environment(variables: dict) -> dict:
    """The CORS settings a process started with these environment variables ends up with."""
    probe = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.CORS_ALLOWED_ORIGINS, settings.CORS_ALLOW_ALL_ORIGINS]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORS_")}
    env |= {"DJANGO_SETTINGS_MODULE": "socialapi.settings", "LOG_LEVEL": "ERROR", **variables}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    allowed, allow_all = json.loads(result.stdout.splitlines()[-1])
    return {"allowed": allowed, "allow_all": allow_all}


def test_cors_allowed_origins_from_the_environment_switch_off_any_origin():
    assert settings_from_environment({}) == {"allowed": [], "allow_all": True}
    assert settings_from_environment({"CORS_ALLOWED_ORIGINS": f"{APP},http://localhost:3000"}) == {
        "allowed": [APP, "http://localhost:3000"],
        "allow_all": False,
    }
