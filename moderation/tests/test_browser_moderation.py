"""A moderator works the report queue in a real browser, and the API then hides the post."""

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from accounts.tests.factories import PASSWORD, UserFactory
from core.tests.browser import (
    admin_log_in,
    assert_all_requests_local,
    click,
    screenshot,
    visible,
    wait,
)
from moderation.groups import sync_moderators_group
from moderation.models import Report
from posts.models import Post
from posts.tests.factories import PostFactory

from .factories import ReportFactory

pytestmark = pytest.mark.browser

REASON = "Spam: a link farm for watches"


def call_api(base_url: str, method: str, path: str, *, token=None, form=None):
    """One request to the live server, as a client would send it: (status, JSON body)."""
    request = urllib.request.Request(
        f"{base_url}{path}",
        method=method,
        data=urlencode(form).encode() if form else None,
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_moderator_hides_a_reported_post_from_the_admin_and_the_api_stops_showing_it(
    live_browser, live_server
):
    moderator = UserFactory(is_staff=True)
    moderator.groups.add(sync_moderators_group())
    member = UserFactory()
    spam = PostFactory(title="Cheap watches, click here")
    kept = PostFactory(owner=spam.owner, title="An ordinary post")
    report = ReportFactory(post=spam, reporter=member)
    driver = live_browser

    admin_log_in(driver, live_server.url, moderator.email, PASSWORD)
    driver.get(f"{live_server.url}/admin/moderation/report/")
    row = visible(driver, f"#result_list input.action-select[value='{report.pk}']")
    assert spam.title in driver.find_element(By.CSS_SELECTOR, "#result_list").text
    row.click()
    Select(driver.find_element(By.NAME, "action")).select_by_visible_text(
        "Hide the reported post or comment, and resolve"
    )
    driver.find_element(By.CSS_SELECTOR, "#changelist-form input[name=reason]").send_keys(REASON)
    click(driver, "#changelist-form button[name=index]")
    wait(driver).until(
        EC.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".messagelist .success"), "Hid what 1 report(s) were about."
        )
    )
    screenshot(driver, "moderation")
    assert "Resolved" in driver.find_element(By.CSS_SELECTOR, "#result_list").text
    assert_all_requests_local(driver, live_server.url)

    # Another member, over HTTP with a token from /login, no longer sees the post.
    status, tokens = call_api(
        live_server.url, "POST", "/login", form={"username": member.email, "password": PASSWORD}
    )
    assert status == 200, tokens
    token = tokens["access_token"]
    status, posts = call_api(live_server.url, "GET", "/posts/", token=token)
    assert status == 200, posts
    assert [item["Post"]["id"] for item in posts] == [kept.pk]
    status, body = call_api(live_server.url, "GET", f"/posts/{spam.pk}", token=token)
    assert (status, body) == (404, {"detail": f"post with id: {spam.pk} was not found"})

    report.refresh_from_db()
    assert report.status == Report.Status.RESOLVED
    assert report.resolved_by == moderator
    spam.refresh_from_db()
    assert spam.hidden_at is not None
    assert (spam.hidden_by, spam.hidden_reason) == (moderator, REASON)
    for obj in (report, spam):
        entry = LogEntry.objects.get(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )
        assert entry.user == moderator
        assert REASON in entry.change_message
    assert Post.objects.visible_to(member).filter(pk=spam.pk).exists() is False
