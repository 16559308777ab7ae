"""Moderation services: what each changes, the one LogEntry it writes, and doing it twice."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from accounts.services import tokens_issue
from accounts.tests.factories import UserFactory
from core.exceptions import ConflictError, NotFoundError
from moderation import services
from moderation.models import Report
from posts.models import Post
from posts.tests.factories import PostFactory

from .factories import ReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(db):
    return UserFactory(is_staff=True, is_superuser=True)


def the_log_entry(obj, moderator) -> LogEntry:
    """The one LogEntry there is, checked to be about `obj`, by `moderator`."""
    entry = LogEntry.objects.get()
    assert entry.user == moderator
    assert entry.content_type == ContentType.objects.get_for_model(obj)
    assert entry.object_id == str(obj.pk)
    assert entry.object_repr == str(obj)
    assert entry.action_flag == CHANGE
    return entry


def hidden_post(moderator, **kwargs) -> Post:
    return PostFactory(
        hidden_at=timezone.now(), hidden_by=moderator, hidden_reason="spam", **kwargs
    )


# --- report_create -----------------------------------------------------------------------------


def test_report_create_stores_an_open_report_and_logs_nothing(user):
    post = PostFactory()

    report = services.report_create(reporter=user, post_id=post.pk, reason="spam")

    assert Report.objects.get() == report
    assert (report.reporter, report.post, report.reason) == (user, post, "spam")
    assert (report.status, report.category) == (Report.Status.OPEN, Report.Category.OTHER)
    assert not LogEntry.objects.exists()  # members' reports are not moderator actions


def test_report_create_twice_raises_conflict_and_keeps_one_row(user):
    post = PostFactory()
    services.report_create(reporter=user, post_id=post.pk, reason="spam", category="spam")

    with pytest.raises(ConflictError):
        services.report_create(reporter=user, post_id=post.pk, reason="again")

    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    "make_post",
    [
        lambda owner: PostFactory(owner=owner, published=False),
        lambda owner: PostFactory(owner=owner, hidden_at=timezone.now()),
    ],
    ids=["draft", "hidden"],
)
def test_report_create_on_a_post_the_reporter_cannot_see_raises_not_found(
    user, other_user, make_post
):
    post = make_post(other_user)
    with pytest.raises(NotFoundError, match=f"post with id: {post.pk} was not found"):
        services.report_create(reporter=user, post_id=post.pk, reason="spam")
    assert not Report.objects.exists()


# --- report_resolve, report_dismiss ------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "status", "said"),
    [
        (services.report_resolve, Report.Status.RESOLVED, "Resolved report"),
        (services.report_dismiss, Report.Status.DISMISSED, "Dismissed report"),
    ],
    ids=["resolve", "dismiss"],
)
def test_closing_a_report_sets_status_resolver_and_time_and_logs_once(
    moderator, service, status, said
):
    report = ReportFactory()
    before = timezone.now()

    returned = service(report=report, moderator=moderator, note="checked the link")

    report.refresh_from_db()
    assert returned == report
    assert report.status == status
    assert report.resolved_by == moderator
    assert before <= report.resolved_at <= timezone.now()
    entry = the_log_entry(report, moderator)
    assert entry.change_message == f"{said}. Reason: checked the link"
    assert entry.get_change_message() == entry.change_message
    assert not Post.objects.filter(hidden_at__isnull=False).exists()


@pytest.mark.parametrize("service", [services.report_resolve, services.report_dismiss])
def test_closing_without_a_note_says_no_reason_was_given(moderator, service):
    report = ReportFactory()
    service(report=report, moderator=moderator)
    report.refresh_from_db()
    assert the_log_entry(report, moderator).change_message.endswith(". No reason given.")


@pytest.mark.parametrize(
    "service",
    [
        services.report_resolve,
        services.report_dismiss,
        services.report_hide_and_resolve,
    ],
)
@pytest.mark.parametrize("closed", [Report.Status.RESOLVED, Report.Status.DISMISSED])
def test_closing_a_closed_report_changes_nothing_and_logs_nothing(moderator, service, closed):
    first_moderator = UserFactory(is_staff=True)
    closed_at = timezone.now()
    post = hidden_post(first_moderator)
    report = ReportFactory(
        post=post, status=closed, resolved_at=closed_at, resolved_by=first_moderator
    )

    service(report=report, moderator=moderator)

    report.refresh_from_db()
    assert (report.status, report.resolved_at, report.resolved_by) == (
        closed,
        closed_at,
        first_moderator,
    )
    assert not LogEntry.objects.exists()


def test_a_stale_copy_of_a_report_cannot_close_it_twice(moderator):
    report = ReportFactory()
    stale = Report.objects.get(pk=report.pk)
    services.report_resolve(report=report, moderator=moderator)

    services.report_dismiss(report=stale, moderator=UserFactory(is_staff=True))

    report.refresh_from_db()
    assert (report.status, report.resolved_by) == (Report.Status.RESOLVED, moderator)
    assert LogEntry.objects.count() == 1


# --- report_hide_and_resolve --------------------------------------------------------------


def test_hide_post_and_resolve_hides_the_post_resolves_and_logs_each(moderator):
    report = ReportFactory(reason="reporter's words")

    services.report_hide_and_resolve(report=report, moderator=moderator, reason="spam")

    report.refresh_from_db()
    post = report.post
    post.refresh_from_db()
    assert (report.status, report.resolved_by) == (Report.Status.RESOLVED, moderator)
    assert report.resolved_at is not None
    assert post.hidden_at is not None
    assert (post.hidden_by, post.hidden_reason) == (moderator, "spam")
    post_type = ContentType.objects.get_for_model(Post)
    report_type = ContentType.objects.get_for_model(Report)
    entries = {entry.content_type: entry for entry in LogEntry.objects.all()}
    assert set(entries) == {post_type, report_type}
    assert all(entry.user == moderator for entry in entries.values())
    assert entries[post_type].object_id == str(post.pk)
    assert entries[post_type].change_message == "Hid post. Reason: spam"
    assert entries[report_type].object_id == str(report.pk)
    assert entries[report_type].change_message == "Resolved report: hid the post. Reason: spam"


def test_hide_post_and_resolve_without_a_reason_uses_the_reporters(moderator):
    report = ReportFactory(reason="Selling fake watches")

    services.report_hide_and_resolve(report=report, moderator=moderator, reason="")

    post = Post.objects.get()
    assert post.hidden_reason == "Selling fake watches"
    assert LogEntry.objects.filter(change_message="Hid post. Reason: Selling fake watches").exists()


def test_hide_post_and_resolve_fits_a_long_reporter_reason_in_the_post(moderator):
    # A report's reason may be 1000 characters; the post's hidden_reason column holds 500.
    report = ReportFactory(reason="x" * 1000)

    services.report_hide_and_resolve(report=report, moderator=moderator)

    post = Post.objects.get()
    assert post.hidden_reason == "x" * 500
    assert LogEntry.objects.get(content_type__model="post").change_message.endswith("x" * 1000)


def test_hide_post_and_resolve_on_a_hidden_post_only_resolves(moderator):
    first_moderator = UserFactory(is_staff=True)
    post = hidden_post(first_moderator)
    report = ReportFactory(post=post)

    services.report_hide_and_resolve(report=report, moderator=moderator, reason="again")

    post.refresh_from_db()
    assert (post.hidden_by, post.hidden_reason) == (first_moderator, "spam")
    report.refresh_from_db()
    assert report.status == Report.Status.RESOLVED
    the_log_entry(report, moderator)


# --- post_hide, post_unhide --------------------------------------------------------------------


def test_post_hide_sets_the_hidden_fields_and_logs_once(moderator):
    post = PostFactory()
    before = timezone.now()

    services.post_hide(post=post, moderator=moderator, reason="off-topic ads")

    post.refresh_from_db()
    assert before <= post.hidden_at <= timezone.now()
    assert (post.hidden_by, post.hidden_reason) == (moderator, "off-topic ads")
    assert (post.published, post.title) == (True, post.title)
    entry = the_log_entry(post, moderator)
    assert entry.change_message == "Hid post. Reason: off-topic ads"


def test_post_hide_twice_changes_nothing_and_logs_nothing(moderator):
    first_moderator = UserFactory(is_staff=True)
    post = hidden_post(first_moderator)
    hidden_at = post.hidden_at

    services.post_hide(post=post, moderator=moderator, reason="other")

    post.refresh_from_db()
    assert (post.hidden_at, post.hidden_by, post.hidden_reason) == (
        hidden_at,
        first_moderator,
        "spam",
    )
    assert not LogEntry.objects.exists()


def test_post_hide_from_a_stale_copy_changes_nothing(moderator):
    post = PostFactory()
    stale = Post.objects.get(pk=post.pk)
    services.post_hide(post=post, moderator=moderator, reason="first")

    services.post_hide(post=stale, moderator=UserFactory(is_staff=True), reason="second")

    post.refresh_from_db()
    assert (post.hidden_by, post.hidden_reason) == (moderator, "first")
    assert LogEntry.objects.count() == 1


def test_post_unhide_clears_the_hidden_fields_and_logs_once(moderator):
    post = hidden_post(moderator)

    services.post_unhide(post=post, moderator=moderator, reason="appeal granted")

    post.refresh_from_db()
    assert (post.hidden_at, post.hidden_by, post.hidden_reason) == (None, None, "")
    entry = the_log_entry(post, moderator)
    assert entry.change_message == "Unhid post. Reason: appeal granted"


def test_post_unhide_of_a_visible_post_changes_nothing_and_logs_nothing(moderator):
    post = PostFactory()
    services.post_unhide(post=post, moderator=moderator)
    post.refresh_from_db()
    assert post.hidden_at is None
    assert not LogEntry.objects.exists()


# --- user_suspend, user_reinstate --------------------------------------------------------------


def test_user_suspend_deactivates_revokes_every_refresh_token_and_logs_once(moderator, user):
    for _ in range(3):
        tokens_issue(user=user)
    tokens_issue(user=moderator)  # someone else's: untouched
    post = PostFactory(owner=user)

    services.user_suspend(user=user, moderator=moderator, reason="ban evasion")

    user.refresh_from_db()
    assert user.is_active is False
    theirs = OutstandingToken.objects.filter(user=user)
    assert theirs.count() == 3
    assert BlacklistedToken.objects.filter(token__user=user).count() == 3
    assert not BlacklistedToken.objects.filter(token__user=moderator).exists()
    assert Post.objects.get() == post  # posts stay
    assert Post.objects.get().hidden_at is None
    entry = the_log_entry(user, moderator)
    assert entry.change_message == "Suspended user. Reason: ban evasion"


def test_user_suspend_twice_changes_nothing_and_logs_nothing(moderator):
    suspended = UserFactory(is_active=False)
    services.user_suspend(user=suspended, moderator=moderator, reason="again")
    assert User.objects.get(pk=suspended.pk).is_active is False
    assert not LogEntry.objects.exists()


def test_user_suspend_refuses_self_suspension(moderator):
    tokens_issue(user=moderator)

    with pytest.raises(services.SelfModerationError, match="You cannot suspend yourself"):
        services.user_suspend(user=moderator, moderator=moderator, reason="oops")

    moderator.refresh_from_db()
    assert moderator.is_active is True
    assert not BlacklistedToken.objects.exists()
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize(
    "target", [{"is_staff": True}, {"is_staff": True, "is_superuser": True}, {"is_superuser": True}]
)
def test_only_a_superuser_may_suspend_staff(target):
    plain_moderator = UserFactory(is_staff=True)
    admin = UserFactory(is_staff=True, is_superuser=True)
    staff = UserFactory(**target)

    with pytest.raises(services.ModerationPermissionError):
        services.user_suspend(user=staff, moderator=plain_moderator, reason="coup")
    assert User.objects.get(pk=staff.pk).is_active is True
    assert not LogEntry.objects.exists()

    services.user_suspend(user=staff, moderator=admin, reason="left the team")
    assert User.objects.get(pk=staff.pk).is_active is False


def test_user_reinstate_reactivates_and_logs_once(moderator):
    suspended = UserFactory(is_active=False)

    services.user_reinstate(user=suspended, moderator=moderator, reason="appeal granted")

    suspended.refresh_from_db()
    assert suspended.is_active is True
    entry = the_log_entry(suspended, moderator)
    assert entry.change_message == "Reinstated user. Reason: appeal granted"


def test_user_reinstate_of_an_active_user_changes_nothing_and_logs_nothing(moderator, user):
    services.user_reinstate(user=user, moderator=moderator)
    assert User.objects.get(pk=user.pk).is_active is True
    assert not LogEntry.objects.exists()


def test_reinstating_does_not_bring_revoked_tokens_back(moderator, user):
    tokens_issue(user=user)
    services.user_suspend(user=user, moderator=moderator)
    services.user_reinstate(user=user, moderator=moderator)
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1
    assert LogEntry.objects.count() == 2
