"""Headless Chromium for tests that use the site as a person would: Debian's, never a download.

Loaded by the root conftest (`pytest_plugins`). `browser` is one Chromium for the whole session;
`live_browser` lends it to one test with clean cookies and storage, next to the live server.
CI sets REQUIRE_BROWSER=1 so that a missing browser fails the run instead of skipping these tests.
"""

import json
import os
import re
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.selenium_manager import SeleniumManager
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
WAIT_SECONDS = 15
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium (Debian chromium, chromium-driver)"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test, so `live_browser` can tell a failure from a pass.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _refuse_selenium_manager(*args, **kwargs):
    raise AssertionError("Selenium Manager was invoked: it would download a browser or driver")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium for the session; without one, skip (or fail if REQUIRE_BROWSER=1)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        reason = f"no {' or '.join(missing)}: apt-get install chromium chromium-driver"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # Every request the page makes, so tests can prove nothing left this machine.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))

    with pytest.MonkeyPatch.context() as patch:
        # Explicit paths already skip Selenium Manager; make sure it can never run regardless.
        patch.setenv("SE_OFFLINE", "true")
        patch.setattr(SeleniumManager, "binary_paths", _refuse_selenium_manager)
        driver = webdriver.Chrome(service=service, options=options)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def live_browser(request, browser, live_server, settings, monkeypatch):
    """The session's browser, clean for this test, against `live_server` with plain static files."""
    # The live server serves /static/ from the apps' folders, by plain name; the manifest storage
    # would link hashed names wherever a `collectstatic` left a manifest, and those would 404.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Chromium keeps its connections to the live server open, and with CONN_MAX_AGE each server
    # thread would keep a database connection too, so PostgreSQL would refuse to drop the test
    # database at the end. Server threads make their connections from this dict.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    browser.execute_cdp_cmd(
        "Storage.clearDataForOrigin", {"origin": live_server.url, "storageTypes": "all"}
    )
    browser.delete_all_cookies()
    browser.get("about:blank")
    network_log(browser)  # drop what earlier tests left in the log
    yield browser
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        screenshot(browser, f"failed-{request.node.name}")


def screenshot(driver, name: str) -> Path:
    """Save what the browser shows as artifacts/<name>.png (the folder is not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    driver.save_screenshot(str(path))
    return path


def network_log(driver) -> list[dict]:
    """The requests the page made since the last call: url, status (None if none came), error, and
    why the browser blocked it (a Content-Security-Policy, say) before it left, if it did.

    Drains Chromium's performance log, which sees every request a page makes, failed ones too.
    """
    requests: dict[str, dict] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        request_id = params.get("requestId")
        if message["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            requests[request_id] = {"url": url, "status": None, "error": None, "blocked": None}
        elif message["method"] == "Network.responseReceived" and request_id in requests:
            requests[request_id]["status"] = params["response"]["status"]
        elif message["method"] == "Network.loadingFailed" and request_id in requests:
            requests[request_id]["error"] = params.get("errorText")
            requests[request_id]["blocked"] = params.get("blockedReason")
    return list(requests.values())


def assert_all_requests_local(driver, origin: str) -> list[dict]:
    """Since the last check, nothing left for another host and every request to `origin`
    succeeded; returns those."""
    requests = [
        r for r in network_log(driver) if not r["url"].startswith(("data:", "blob:", "about:"))
    ]
    local = [r for r in requests if r["url"].startswith(f"{origin}/")]
    left = [r["url"] for r in requests if r not in local and not r["blocked"]]
    assert not left, f"requests left the live server: {left}"
    # The browser asks for /favicon.ico by itself when a page names no icon: not the page's doing.
    broken = [
        r
        for r in local
        if (r["error"] or r["blocked"] or (r["status"] or 0) >= 400)
        and r["url"] != f"{origin}/favicon.ico"
    ]
    assert not broken, f"requests that failed: {broken}"
    return local


def wait(driver) -> WebDriverWait:
    return WebDriverWait(driver, WAIT_SECONDS)


def visible(driver, css: str):
    """The element `css` selects, once it shows."""
    return wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def click(driver, css: str) -> None:
    """Click the element `css` selects, once it can be clicked."""
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()


def admin_log_in(driver, base_url: str, email: str, password: str) -> None:
    """Log in through the admin's login form and wait for the admin index."""
    driver.get(f"{base_url}/admin/")
    visible(driver, "#id_username").send_keys(email)
    driver.find_element(By.CSS_SELECTOR, "#id_password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait(driver).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#content h1"), "Site administration")
    )
