"""A moderator hides a reported comment from the report queue in a real browser; the API then
shows it to its author only."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from accounts.tests.factories import PASSWORD, UserFactory
from comments.models import Comment
from comments.tests.factories import CommentFactory
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
from .test_browser_moderation import call_api

pytestmark = pytest.mark.browser

REASON = "Abuse: insults another member"


def token_of(base_url: str, user) -> str:
    """An access token from POST /login, as a client gets one."""
    status, tokens = call_api(
        base_url, "POST", "/login", form={"username": user.email, "password": PASSWORD}
    )
    assert status == 200, tokens
    return tokens["access_token"]


def test_moderator_hides_a_reported_comment_from_the_admin_and_only_its_author_still_sees_it(
    live_browser, live_server
):
    moderator = UserFactory(is_staff=True)
    moderator.groups.add(sync_moderators_group())
    member, author = UserFactory(), UserFactory()
    post = PostFactory(title="A quiet walk by the river")
    kept = CommentFactory(post=post, content="Lovely photos")
    abusive = CommentFactory(post=post, author=author, content="You are all idiots")
    report = ReportFactory(post=post, comment=abusive, reporter=member, reason="insults")
    driver = live_browser

    admin_log_in(driver, live_server.url, moderator.email, PASSWORD)
    driver.get(f"{live_server.url}/admin/moderation/report/")
    row = visible(driver, f"#result_list input.action-select[value='{report.pk}']")
    assert abusive.content in driver.find_element(By.CSS_SELECTOR, "#result_list").text
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
    screenshot(driver, "comment-moderation")
    assert "Resolved" in driver.find_element(By.CSS_SELECTOR, "#result_list").text
    assert_all_requests_local(driver, live_server.url)

    # Another member, over HTTP with a token from /login, no longer sees the comment.
    token = token_of(live_server.url, member)
    status, thread = call_api(live_server.url, "GET", f"/posts/{post.pk}/comments", token=token)
    assert status == 200, thread
    assert [item["id"] for item in thread] == [kept.pk]
    status, body = call_api(live_server.url, "GET", f"/comments/{abusive.pk}", token=token)
    assert (status, body) == (404, {"detail": f"Comment with id: {abusive.pk} does not exist"})
    status, shown = call_api(live_server.url, "GET", f"/posts/{post.pk}", token=token)
    assert status == 200, shown
    assert (shown["Post"]["id"], shown["comments"]) == (post.pk, 1)  # the post stays

    # Its author still sees it, marked hidden, with the moderator's reason.
    token = token_of(live_server.url, author)
    status, mine = call_api(live_server.url, "GET", f"/comments/{abusive.pk}", token=token)
    assert status == 200, mine
    assert (mine["id"], mine["content"]) == (abusive.pk, "You are all idiots")
    assert (mine["hidden"], mine["hidden_reason"]) == (True, REASON)
    status, thread = call_api(live_server.url, "GET", f"/posts/{post.pk}/comments", token=token)
    assert status == 200, thread
    assert [(item["id"], item.get("hidden", False)) for item in thread] == [
        (kept.pk, False),
        (abusive.pk, True),
    ]

    report.refresh_from_db()
    assert (report.status, report.resolved_by) == (Report.Status.RESOLVED, moderator)
    abusive.refresh_from_db()
    assert abusive.hidden_at is not None
    assert (abusive.hidden_by, abusive.hidden_reason) == (moderator, REASON)
    assert Post.objects.get(pk=post.pk).hidden_at is None
    for obj in (report, abusive):
        entry = LogEntry.objects.get(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )
        assert entry.user == moderator
        assert REASON in entry.change_message
    assert Comment.objects.visible_to(member).filter(pk=abusive.pk).exists() is False
