"""Production security: `check --deploy` is clean with the documented variables, HTTPS behind a
proxy, and no debug pages; a local run over plain HTTP needs none of it set."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

BASE_DIR = Path(__file__).resolve().parents[2]

# Run in a fresh process, since settings are read from the environment once, at startup.
PRODUCTION_PROBE = """
import json
import django
from django.conf import settings
from django.core.management import call_command
from django.test import Client

django.setup()
call_command("check", deploy=True, fail_level="WARNING")
plain = Client(HTTP_HOST="api.example.com").get("/no/such/page?q=1")
https = Client(HTTP_HOST="api.example.com", HTTP_X_FORWARDED_PROTO="https")
missing = https.get("/no/such/page")
print(json.dumps({
    "debug": settings.DEBUG,
    "cookies_secure": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "plain": [plain.status_code, plain.headers.get("Location")],
    "missing": [missing.status_code, missing.headers["Content-Type"], missing.json()],
    "hsts": missing.headers.get("Strict-Transport-Security"),
}))
"""


def settings_variables() -> set[str]:
    """Every variable name socialapi/settings.py and gunicorn.conf.py read."""
    readers = r"(?:env(?:\.\w+)?|throttle_rate|os\.environ\.get)"
    sources = [BASE_DIR / "socialapi" / "settings.py", BASE_DIR / "gunicorn.conf.py"]
    return {
        name
        for source in sources
        for name in re.findall(readers + r"""\(\s*["']([A-Z][A-Z0-9_]*)["']""", source.read_text())
    }


def documented_variables() -> dict[str, str | None]:
    """`.env.example`: each name with its value when the line is set (uncommented)."""
    documented = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if match := re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line):
            documented[match[2]] = None if match[1] else match[3]
    return documented


def run_production_probe(variables: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in documented_variables()}
    env |= {"DJANGO_SETTINGS_MODULE": "socialapi.settings", "LOG_LEVEL": "ERROR", **variables}
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("debug", [{"DEBUG": "false"}, {}], ids=["DEBUG=false", "DEBUG unset"])
def test_check_deploy_is_clean_with_the_documented_production_variables(debug):
    documented = {k: v for k, v in documented_variables().items() if v is not None}
    assert set(documented) == {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}
    production = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "api.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///:memory:"),
        **debug,
    }

    probe = run_production_probe(production)

    assert probe["debug"] is False
    assert probe["cookies_secure"] == [True, True]
    assert probe["plain"] == [301, "https://api.example.com/no/such/page?q=1"]
    assert probe["missing"] == [404, "application/json", {"detail": "Not Found"}]
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_env_example_documents_every_variable_the_settings_read():
    assert settings_variables() <= set(documented_variables())
    assert {"SECRET_KEY", "SECURE_SSL_REDIRECT", "PORT", "WEB_CONCURRENCY"} <= settings_variables()


def test_unknown_path_is_a_json_404_never_a_debug_page(db, settings):
    assert settings.DEBUG is False

    response = APIClient().get("/no/such/page")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}


def test_a_local_run_over_plain_http_is_not_redirected(db, settings):
    # The test settings are a local run: DEBUG off, the loopback host names.
    assert settings.SECURE_SSL_REDIRECT is False

    response = APIClient().get("/healthz")

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response


def test_with_ssl_redirect_plain_http_goes_to_https_and_a_proxied_https_request_is_served(
    db, settings
):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    client = APIClient()

    plain = client.get("/healthz")
    proxied = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/healthz"
    assert proxied.status_code == 200
    assert proxied.json() == {"status": "ok"}
    assert proxied["Strict-Transport-Security"] == "max-age=3600; includeSubDomains; preload"
