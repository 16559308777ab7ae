"""The docs and the admin in a real browser: what a developer meeting socialapi sees first."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from accounts.tests.factories import PASSWORD, UserFactory
from core.tests.browser import (
    admin_log_in,
    assert_all_requests_local,
    click,
    screenshot,
    visible,
    wait,
)
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.browser

LIST_POSTS = "//div[contains(@class, 'opblock-get')][.//*[@data-path='/posts/']]"
SWAGGER_ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"}


def test_swagger_ui_authorizes_with_email_and_password_and_lists_posts(live_browser, live_server):
    user = UserFactory()
    post = PostFactory(owner=user, title="Seen through Swagger UI")
    driver = live_browser

    driver.get(f"{live_server.url}/docs")
    operation = wait(driver).until(EC.visibility_of_element_located((By.XPATH, LIST_POSTS)))
    requests = assert_all_requests_local(driver, live_server.url)
    assert SWAGGER_ASSETS <= {r["url"].rsplit("/", 1)[-1] for r in requests if r["status"] == 200}

    # Authorize: Swagger UI posts the email and password to /login (OAuth2 password flow).
    click(driver, "button.authorize")
    visible(driver, "#oauth_username").send_keys(user.email)
    driver.find_element(By.CSS_SELECTOR, "#oauth_password").send_keys(PASSWORD)
    click(driver, ".auth-container button.modal-btn.authorize")
    # The dialog offers Logout instead of Authorize only once /login answered with a token.
    wait(driver).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".auth-container"), "Logout")
    )
    click(driver, ".auth-container button.btn-done")
    wait(driver).until(EC.invisibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")))

    # GET /posts/ from the page, sent with the token Swagger UI got.
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    block = f"#{operation.get_attribute('id')}"
    click(driver, f"{block} button.try-out__btn")
    click(driver, f"{block} button.execute")
    response = visible(driver, f"{block} .live-responses-table .response")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", response)
    screenshot(driver, "docs")

    assert response.find_element(By.CSS_SELECTOR, ".response-col_status").text == "200"
    assert post.title in response.find_element(By.CSS_SELECTOR, ".response-col_description").text
    assert_all_requests_local(driver, live_server.url)


def test_redoc_renders_the_schema_from_local_assets(live_browser, live_server):
    driver = live_browser

    driver.get(f"{live_server.url}/redoc")
    wait(driver).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".api-info h1"), "socialapi")
    )
    wait(driver).until(
        EC.presence_of_element_located((By.XPATH, "//h2[normalize-space()='List posts']"))
    )
    screenshot(driver, "redoc")

    requests = assert_all_requests_local(driver, live_server.url)
    assert any(r["url"].endswith("/openapi.json") and r["status"] == 200 for r in requests)


def test_superuser_logs_in_to_the_admin(live_browser, live_server):
    admin = UserFactory(is_staff=True, is_superuser=True)
    driver = live_browser

    admin_log_in(driver, live_server.url, admin.email, PASSWORD)
    screenshot(driver, "admin")

    assert driver.current_url == f"{live_server.url}/admin/"
    assert "Posts" in driver.find_element(By.CSS_SELECTOR, "#content-main").text
    assert_all_requests_local(driver, live_server.url)
