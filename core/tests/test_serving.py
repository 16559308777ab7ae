"""The Procfile's web command as a deploy runs it: collectstatic, then gunicorn with
gunicorn.conf.py, serving the API, hashed static files and JSON log lines behind a TLS proxy."""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
HTTPS = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy adds


def procfile_command(process: str) -> str:
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise LookupError(process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, headers=None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def wait_until_serving(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the web process exited with {server.returncode}:\n{log.read_text()}")
        try:
            get(port, "/healthz", HTTPS)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the web process did not answer within 60 s:\n{log.read_text()}")


@pytest.fixture
def web(tmp_path):
    """The Procfile's `web` process in production mode behind a proxy; yields (port, log file)."""
    port = free_port()
    log = tmp_path / "web.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THROTTLE_", "SECURE_"))}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "DEBUG": "false",
        "SECRET_KEY": "serving-test-secret-key-that-is-long-enough-for-hs256",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serving.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
        "LOG_LEVEL": "INFO",
    }
    with log.open("w") as output:
        server = subprocess.Popen(
            ["sh", "-c", procfile_command("web")],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(port, server, log)
        yield port, log
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_web_process_serves_the_api_and_hashed_static_files_behind_a_tls_proxy(web):
    port, log = web

    health = get(port, "/healthz", HTTPS)
    redirected = get(port, "/healthz")
    login_page = get(port, "/admin/login/", HTTPS)
    stylesheet = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login_page[2])
    css = get(port, stylesheet[1].decode(), HTTPS)

    assert (health[0], json.loads(health[2])) == (200, {"status": "ok"})
    assert (redirected[0], redirected[1]["Location"]) == (301, f"https://127.0.0.1:{port}/healthz")
    assert login_page[0] == 200
    assert css[0] == 200
    assert css[1]["Content-Type"].startswith("text/css")
    assert css[1]["Cache-Control"] == "max-age=315360000, public, immutable"

    time.sleep(0.2)  # let the worker flush its log lines
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    health_line = next(line for line in lines if line.get("path") == "/healthz")
    assert health_line["logger"] == "socialapi.requests"
    assert (health_line["method"], health_line["status"]) == ("GET", 200)
    assert isinstance(health_line["duration_ms"], float)
