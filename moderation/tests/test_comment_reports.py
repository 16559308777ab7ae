"""Reports on comments and hiding comments: POST /comments/{id}/report, the services, and the
admin's actions and permissions (docs/api.md Part 3, "Comments")."""

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from accounts.tests.factories import BlockFactory, UserFactory
from comments.models import Comment
from comments.tests.factories import CommentFactory
from core.exceptions import ConflictError, NotFoundError
from moderation import services
from moderation.groups import sync_moderators_group
from moderation.models import Report
from posts.models import Post
from posts.tests.factories import PostFactory

from .factories import ReportFactory

pytestmark = pytest.mark.django_db

SLASHES = pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
REPORT_KEYS = {
    "id",
    "post_id",
    "comment_id",
    "reporter_id",
    "category",
    "reason",
    "status",
    "created_at",
}
REPORTS = "/admin/moderation/report/"
COMMENTS = "/admin/comments/comment/"
EXPECTED_MODERATOR_PERMISSIONS = {
    "accounts.view_user",
    "accounts.suspend_user",
    "accounts.view_block",
    "social.view_follow",
    "posts.view_post",
    "posts.hide_post",
    "posts.view_vote",
    "comments.view_comment",
    "comments.hide_comment",
    "moderation.view_report",
    "moderation.change_report",
}


def report(client, comment_id, body=None, slash="", **kwargs):
    body = {"reason": "Insulting"} if body is None else body
    return client.post(f"/comments/{comment_id}/report{slash}", body, format="json", **kwargs)


def not_found(comment_id) -> dict:
    return {"detail": f"Comment with id: {comment_id} does not exist"}


def assert_422(response, *locs):
    assert response.status_code == 422, response.content
    assert [entry["loc"] for entry in response.json()["detail"]] == [list(loc) for loc in locs]
    for entry in response.json()["detail"]:
        assert set(entry) == {"loc", "msg", "type"}


def comment_report(**kwargs) -> Report:
    """An open report on a comment (on the comment's post, as the API files it)."""
    comment = kwargs.pop("comment", None) or CommentFactory()
    return ReportFactory(comment=comment, post=comment.post, **kwargs)


def comment_count(post) -> int:
    return Post.objects.get(pk=post.pk).comment_count


def log_entries() -> dict[tuple[str, str], LogEntry]:
    """Every LogEntry, by (model, object id)."""
    return {
        (entry.content_type.model, entry.object_id): entry
        for entry in LogEntry.objects.select_related("content_type")
    }


@pytest.fixture
def moderator(db):
    """Staff in the moderators group, as migrate keeps it."""
    moderator = UserFactory(email="mod@example.com", is_staff=True)
    moderator.groups.add(sync_moderators_group())
    return User.objects.get(pk=moderator.pk)


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture(params=["superuser", "moderator"])
def console(request):
    user = request.getfixturevalue(request.param)
    return client_for(user), user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def act(client, changelist, action, objects, reason="abusive"):
    body = {"action": action, "_selected_action": [obj.pk for obj in objects], "reason": reason}
    return client.post(changelist, body)


def offered_actions(response) -> set[str]:
    form = response.context["action_form"]
    return {name for name, _ in form.fields["action"].choices} - {""} if form else set()


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- POST /comments/{id}/report: 201 -----------------------------------------------------------


@SLASHES
def test_report_on_a_comment_returns_201_and_stores_it_with_the_comment(auth_client, user, slash):
    comment = CommentFactory()

    response = report(auth_client, comment.pk, {"reason": "Insulting"}, slash)

    assert response.status_code == 201, response.content
    stored = Report.objects.get()
    data = response.json()
    assert set(data) == REPORT_KEYS
    assert data == {
        "id": stored.pk,
        "post_id": comment.post_id,
        "comment_id": comment.pk,
        "reporter_id": user.pk,
        "category": "other",
        "reason": "Insulting",
        "status": "open",
        "created_at": data["created_at"],
    }
    assert parse_datetime(data["created_at"]) == stored.created_at
    assert (stored.reporter, stored.post, stored.comment) == (user, comment.post, comment)
    assert (stored.reason, stored.category, stored.status) == ("Insulting", "other", "open")
    assert (stored.resolved_at, stored.resolved_by) == (None, None)
    assert not LogEntry.objects.exists()  # a member's report is not a moderator's action


def test_report_on_a_comment_takes_a_category_and_ignores_read_only_fields(
    auth_client, user, other_user
):
    comment, elsewhere = CommentFactory.create_batch(2)
    body = {
        "reason": "spam",
        "category": "spam",
        "comment_id": elsewhere.pk,
        "post_id": elsewhere.post_id,
        "reporter_id": other_user.pk,
        "status": "resolved",
    }

    response = report(auth_client, comment.pk, body)

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["comment_id"], data["post_id"]) == (comment.pk, comment.post_id)
    assert (data["reporter_id"], data["status"], data["category"]) == (user.pk, "open", "spam")
    stored = Report.objects.get()
    assert (stored.comment, stored.reporter, stored.status) == (comment, user, "open")


def test_a_report_on_a_post_and_one_on_its_comment_are_both_kept(auth_client, user):
    comment = CommentFactory()

    on_post = auth_client.post(f"/posts/{comment.post_id}/report", {"reason": "a"}, format="json")
    on_comment = report(auth_client, comment.pk)

    assert (on_post.status_code, on_comment.status_code) == (201, 201)
    assert "comment_id" not in on_post.json()
    assert set(Report.objects.values_list("post_id", "comment_id")) == {
        (comment.post_id, None),
        (comment.post_id, comment.pk),
    }


def test_the_posts_owner_may_report_a_comment_a_moderator_hid(auth_client, user, superuser):
    # The owner still sees it (docs/api.md), so may report it.
    comment = CommentFactory(post=PostFactory(owner=user))
    services.comment_hide(comment=comment, moderator=superuser, reason="first look")

    response = report(auth_client, comment.pk)

    assert response.status_code == 201, response.content
    assert Report.objects.get().comment == comment


# --- 404 ---------------------------------------------------------------------------------------


def test_report_on_an_unknown_comment_returns_404(auth_client):
    response = report(auth_client, 99999)
    assert (response.status_code, response.json()) == (404, not_found(99999))
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "make",
    [
        lambda me, mod: CommentFactory(post=PostFactory(published=False)),
        lambda me, mod: services.comment_hide(comment=CommentFactory(), moderator=mod),
        lambda me, mod: CommentFactory(post=services.post_hide(post=PostFactory(), moderator=mod)),
        lambda me, mod: BlockFactory(blocker=me).blocked.comments.create(
            post=PostFactory(), content="from someone I blocked"
        ),
        lambda me, mod: BlockFactory(blocked=me).blocker.comments.create(
            post=PostFactory(), content="from someone who blocked me"
        ),
    ],
    ids=["draft-post", "hidden-comment", "hidden-post", "i-blocked", "blocked-me"],
)
def test_report_on_a_comment_one_cannot_see_returns_404(auth_client, user, superuser, make):
    comment = make(user, superuser)

    response = report(auth_client, comment.pk)

    assert (response.status_code, response.json()) == (404, not_found(comment.pk))
    assert not Report.objects.exists()


def test_report_on_a_deleted_comment_returns_404(auth_client):
    comment = CommentFactory()
    comment_id = comment.pk
    comment.delete()

    response = report(auth_client, comment_id)

    assert (response.status_code, response.json()) == (404, not_found(comment_id))


# --- 409 ---------------------------------------------------------------------------------------


def test_second_open_report_on_a_comment_returns_409_and_keeps_one_row(auth_client, user):
    comment = CommentFactory()
    assert report(auth_client, comment.pk).status_code == 201

    response = report(auth_client, comment.pk, {"reason": "again", "category": "abuse"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"user {user.pk} already has an open report on comment {comment.pk}"
    }
    assert Report.objects.filter(reporter=user, comment=comment).count() == 1
    assert Report.objects.get().reason == "Insulting"


def test_reports_by_different_members_on_one_comment_are_all_kept(auth_client, other_client):
    comment = CommentFactory()
    assert report(auth_client, comment.pk).status_code == 201
    assert report(other_client, comment.pk).status_code == 201
    assert Report.objects.filter(comment=comment, status="open").count() == 2


@pytest.mark.parametrize("closed", [Report.Status.RESOLVED, Report.Status.DISMISSED])
def test_after_a_comment_report_is_closed_the_member_may_report_again(auth_client, user, closed):
    comment = CommentFactory()
    comment_report(comment=comment, reporter=user, status=closed, resolved_at=timezone.now())

    response = report(auth_client, comment.pk, {"reason": "it is back"})

    assert response.status_code == 201, response.content
    assert Report.objects.filter(reporter=user, comment=comment).count() == 2
    assert Report.objects.get(status="open").reason == "it is back"


# --- 422, 401 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": None}, {"reason": "x" * 1001}, {"reason": 5}],
    ids=["missing", "empty", "null", "too-long", "number"],
)
def test_report_on_a_comment_with_a_bad_reason_returns_422(auth_client, body):
    comment = CommentFactory()
    response = report(auth_client, comment.pk, body)
    assert_422(response, ("body", "reason"))
    assert not Report.objects.exists()


def test_missing_reason_is_typed_missing(auth_client):
    comment = CommentFactory()
    response = report(auth_client, comment.pk, {})
    assert_422(response, ("body", "reason"))
    assert response.json()["detail"][0]["type"] == "missing"


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "9" * 30])
def test_report_on_a_bad_comment_id_returns_422_on_the_path(auth_client, bad_id):
    response = report(auth_client, bad_id)
    assert_422(response, ("path", "id"))
    assert not Report.objects.exists()


def test_report_on_a_comment_without_a_token_returns_401(api_client):
    comment = CommentFactory()
    response = report(api_client, comment.pk)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert set(response.json()) == {"detail"}
    assert not Report.objects.exists()


# --- services ----------------------------------------------------------------------------------


def test_comment_report_create_raises_not_found_and_conflict(user):
    comment = CommentFactory()
    hidden = services.comment_hide(comment=CommentFactory(), moderator=UserFactory(is_staff=True))
    LogEntry.objects.all().delete()

    services.comment_report_create(reporter=user, comment_id=comment.pk, reason="spam")
    with pytest.raises(ConflictError):
        services.comment_report_create(reporter=user, comment_id=comment.pk, reason="again")
    with pytest.raises(NotFoundError, match=f"Comment with id: {hidden.pk} does not exist"):
        services.comment_report_create(reporter=user, comment_id=hidden.pk, reason="spam")

    assert list(Report.objects.values_list("comment_id", "reason")) == [(comment.pk, "spam")]
    assert not LogEntry.objects.exists()


def test_comment_hide_hides_counts_down_and_logs_once(superuser):
    comment, other = CommentFactory.create_batch(2, post=PostFactory())
    post = comment.post
    assert comment_count(post) == 2
    before = timezone.now()

    returned = services.comment_hide(comment=comment, moderator=superuser, reason="insults")

    comment.refresh_from_db()
    assert returned == comment
    assert before <= comment.hidden_at <= timezone.now()
    assert (comment.hidden_by, comment.hidden_reason) == (superuser, "insults")
    assert Comment.objects.get(pk=other.pk).hidden_at is None
    assert comment_count(post) == 1
    entry = LogEntry.objects.get()
    assert (entry.user, entry.action_flag) == (superuser, CHANGE)
    assert entry.content_type == ContentType.objects.get_for_model(Comment)
    assert (entry.object_id, entry.object_repr) == (str(comment.pk), str(comment))
    assert entry.change_message == "Hid comment. Reason: insults"


def test_comment_hide_twice_changes_nothing_and_logs_nothing_more(superuser):
    comment = CommentFactory()
    services.comment_hide(comment=comment, moderator=superuser, reason="first")
    hidden_at = Comment.objects.get(pk=comment.pk).hidden_at

    services.comment_hide(comment=comment, moderator=UserFactory(is_staff=True), reason="again")

    comment.refresh_from_db()
    assert (comment.hidden_at, comment.hidden_by, comment.hidden_reason) == (
        hidden_at,
        superuser,
        "first",
    )
    assert comment_count(comment.post) == 0
    assert LogEntry.objects.count() == 1


def test_comment_unhide_shows_it_again_counts_up_and_logs(superuser):
    comment = CommentFactory()
    services.comment_hide(comment=comment, moderator=superuser, reason="insults")
    assert comment_count(comment.post) == 0

    services.comment_unhide(comment=comment, moderator=superuser, reason="appeal granted")

    comment.refresh_from_db()
    assert (comment.hidden_at, comment.hidden_by, comment.hidden_reason) == (None, None, "")
    assert comment_count(comment.post) == 1
    assert [e.change_message for e in LogEntry.objects.order_by("pk")] == [
        "Hid comment. Reason: insults",
        "Unhid comment. Reason: appeal granted",
    ]


def test_comment_unhide_of_a_shown_comment_changes_nothing_and_logs_nothing(superuser):
    comment = CommentFactory()

    services.comment_unhide(comment=comment, moderator=superuser)

    assert Comment.objects.get(pk=comment.pk).hidden_at is None
    assert comment_count(comment.post) == 1
    assert not LogEntry.objects.exists()


def test_hide_and_resolve_on_a_comment_report_hides_the_comment_not_the_post(superuser):
    report_ = comment_report(reason="reporter's words")
    comment, post = report_.comment, report_.post

    services.report_hide_and_resolve(report=report_, moderator=superuser, reason="insults")

    report_.refresh_from_db()
    comment.refresh_from_db()
    assert (report_.status, report_.resolved_by) == (Report.Status.RESOLVED, superuser)
    assert report_.resolved_at is not None
    assert (comment.hidden_by, comment.hidden_reason) == (superuser, "insults")
    assert Post.objects.get(pk=post.pk).hidden_at is None
    assert comment_count(post) == 0
    entries = log_entries()
    assert set(entries) == {("comment", str(comment.pk)), ("report", str(report_.pk))}
    assert {entry.user for entry in entries.values()} == {superuser}
    assert entries["comment", str(comment.pk)].change_message == "Hid comment. Reason: insults"
    assert entries["report", str(report_.pk)].change_message == (
        "Resolved report: hid the comment. Reason: insults"
    )


def test_hide_and_resolve_on_a_comment_report_without_a_reason_uses_the_reporters(superuser):
    report_ = comment_report(reason="y" * 1000)

    services.report_hide_and_resolve(report=report_, moderator=superuser)

    comment = Comment.objects.get(pk=report_.comment_id)
    assert comment.hidden_reason == "y" * 500  # the column's length
    assert LogEntry.objects.get(content_type__model="comment").change_message == (
        "Hid comment. Reason: " + "y" * 1000
    )


def test_hide_and_resolve_on_an_already_hidden_comment_only_resolves(superuser):
    first = UserFactory(is_staff=True)
    comment = services.comment_hide(comment=CommentFactory(), moderator=first, reason="first")
    report_ = comment_report(comment=comment)
    LogEntry.objects.all().delete()

    services.report_hide_and_resolve(report=report_, moderator=superuser, reason="again")

    comment.refresh_from_db()
    assert (comment.hidden_by, comment.hidden_reason) == (first, "first")
    assert Report.objects.get().status == Report.Status.RESOLVED
    assert list(log_entries()) == [("report", str(report_.pk))]


# --- the admin: moderators' permissions --------------------------------------------------------


def test_moderators_have_exactly_the_groups_permissions_with_the_comment_ones(moderator):
    assert moderator.get_all_permissions() == EXPECTED_MODERATOR_PERMISSIONS


def test_moderator_cannot_add_change_or_delete_comments(moderator):
    client = client_for(moderator)
    comment = CommentFactory(content="Original words")

    add_page = client.get(f"{COMMENTS}add/")
    add = client.post(f"{COMMENTS}add/", {"post": comment.post_id, "content": "new"})
    change = client.post(f"{COMMENTS}{comment.pk}/change/", {"content": "Changed"})
    delete = client.post(f"{COMMENTS}{comment.pk}/delete/", {"post": "yes"})
    bulk = act(client, COMMENTS, "delete_selected", [comment])

    assert (add_page.status_code, add.status_code) == (403, 403)
    assert (change.status_code, delete.status_code) == (403, 403)
    assert bulk.status_code in (200, 302)
    assert list(Comment.objects.values_list("pk", "content")) == [(comment.pk, "Original words")]
    assert client.get(f"{COMMENTS}{comment.pk}/change/").status_code == 200  # may look
    assert not LogEntry.objects.exists()


def test_the_comment_changelist_offers_hide_and_unhide_only(moderator, superuser):
    CommentFactory()
    assert offered_actions(client_for(moderator).get(COMMENTS)) == {"hide", "unhide"}
    assert offered_actions(client_for(superuser).get(COMMENTS)) == {"hide", "unhide"}


def test_staff_without_permissions_cannot_see_or_hide_comments(db):
    staff = UserFactory(is_staff=True)
    comment = CommentFactory()

    assert client_for(staff).get(COMMENTS).status_code == 403
    response = act(client_for(staff), COMMENTS, "hide", [comment])

    assert response.status_code == 403
    assert Comment.objects.get(pk=comment.pk).hidden_at is None
    assert not LogEntry.objects.exists()


# --- the admin: actions ------------------------------------------------------------------------


def test_hide_and_resolve_action_on_a_comment_report(console):
    client, by = console
    report_ = comment_report()
    untouched = comment_report()
    comment, post = report_.comment, report_.post

    response = act(client, REPORTS, "hide_and_resolve", [report_], reason="insults")

    assert response.status_code == 302
    assert "Hid what 1 report(s) were about." in messages_of(response)
    report_.refresh_from_db()
    comment.refresh_from_db()
    assert (report_.status, report_.resolved_by) == (Report.Status.RESOLVED, by)
    assert (comment.hidden_by, comment.hidden_reason) == (by, "insults")
    assert Post.objects.get(pk=post.pk).hidden_at is None
    assert comment_count(post) == 0
    assert Report.objects.get(pk=untouched.pk).status == Report.Status.OPEN
    assert Comment.objects.get(pk=untouched.comment_id).hidden_at is None
    entries = log_entries()
    assert set(entries) == {("comment", str(comment.pk)), ("report", str(report_.pk))}
    assert {entry.user for entry in entries.values()} == {by}
    assert entries["comment", str(comment.pk)].change_message == "Hid comment. Reason: insults"


def test_hide_and_resolve_action_on_post_and_comment_reports_at_once(moderator):
    on_post = ReportFactory()
    on_comment = comment_report()

    response = act(client_for(moderator), REPORTS, "hide_and_resolve", [on_post, on_comment])

    assert response.status_code == 302
    assert "Hid what 2 report(s) were about." in messages_of(response)
    assert set(Report.objects.values_list("status", flat=True)) == {"resolved"}
    assert Post.objects.get(pk=on_post.post_id).hidden_at is not None
    assert Post.objects.get(pk=on_comment.post_id).hidden_at is None
    assert Comment.objects.get(pk=on_comment.comment_id).hidden_by == moderator
    assert LogEntry.objects.count() == 4


def test_hide_and_resolve_needs_the_right_to_hide_what_each_report_is_about(db):
    # Reports and posts, but no right to hide comments: the comment report is refused.
    staff = UserFactory(is_staff=True)
    for codename in ("view_report", "change_report", "hide_post"):
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    on_post = ReportFactory()
    on_comment = comment_report()

    response = act(client_for(staff), REPORTS, "hide_and_resolve", [on_post, on_comment])

    assert response.status_code == 302
    assert messages_of(response) == [
        f"You may not hide what report #{on_comment.pk} is about",
        "Hid what 1 report(s) were about.",
    ]
    assert Report.objects.get(pk=on_post.pk).status == Report.Status.RESOLVED
    assert Report.objects.get(pk=on_comment.pk).status == Report.Status.OPEN
    assert Comment.objects.get(pk=on_comment.comment_id).hidden_at is None
    assert set(log_entries()) == {("post", str(on_post.post_id)), ("report", str(on_post.pk))}


def test_hide_action_in_the_comments_changelist_hides_and_logs(console):
    client, by = console
    comment, other = CommentFactory.create_batch(2, post=PostFactory())

    response = act(client, COMMENTS, "hide", [comment], reason="insults")

    assert response.status_code == 302
    assert "Hid 1 comment(s)." in messages_of(response)
    comment.refresh_from_db()
    assert comment.hidden_at is not None
    assert (comment.hidden_by, comment.hidden_reason) == (by, "insults")
    assert Comment.objects.get(pk=other.pk).hidden_at is None
    assert comment_count(comment.post) == 1
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id, entry.change_message) == (
        by,
        str(comment.pk),
        "Hid comment. Reason: insults",
    )


def test_unhide_action_in_the_comments_changelist_shows_again_and_logs(console):
    client, by = console
    comment = services.comment_hide(comment=CommentFactory(), moderator=by, reason="insults")
    LogEntry.objects.all().delete()

    response = act(client, COMMENTS, "unhide", [comment], reason="appeal")

    assert response.status_code == 302
    assert "Unhid 1 comment(s)." in messages_of(response)
    comment.refresh_from_db()
    assert (comment.hidden_at, comment.hidden_by, comment.hidden_reason) == (None, None, "")
    assert comment_count(comment.post) == 1
    assert LogEntry.objects.get().change_message == "Unhid comment. Reason: appeal"


def test_the_comments_changelist_counts_reports_and_the_queue_links_the_comment(moderator):
    comment = CommentFactory(content="You are all idiots")
    comment_report(comment=comment)
    comment_report(comment=comment)
    quiet = CommentFactory(post=comment.post)
    ReportFactory(post=comment.post)  # on the post itself: no comment's
    client = client_for(moderator)

    listed = {row.pk: row.report_count for row in client.get(COMMENTS).context["cl"].result_list}
    queue = client.get(REPORTS).content.decode()

    assert listed == {comment.pk: 2, quiet.pk: 0}
    assert f'href="{COMMENTS}{comment.pk}/change/"' in queue
    assert "You are all idiots" in queue


# --- query counts ------------------------------------------------------------------------------


def make_comment_reports(count):
    for comment in CommentFactory.create_batch(count):
        comment_report(comment=comment)


def make_reported_comments(count):
    post = PostFactory()
    for comment in CommentFactory.create_batch(count, post=post):
        comment_report(comment=comment)


# Measured on Django 5.2 for a moderator: session, user, 2 permissions, the two counts, the
# page, and the filters' own (the report queue's dates; the comments' date hierarchy, two).
COMMENT_QUERY_BUDGET = {REPORTS: 7, COMMENTS: 9}


@pytest.mark.parametrize(
    ("changelist", "make"),
    [(REPORTS, make_comment_reports), (COMMENTS, make_reported_comments)],
    ids=["reports", "comments"],
)
@pytest.mark.parametrize("count", [5, 50])
def test_comment_changelists_take_the_same_queries_whatever_the_page_size(
    moderator, django_assert_max_num_queries, changelist, make, count
):
    client = client_for(moderator)
    make(count)

    with django_assert_max_num_queries(COMMENT_QUERY_BUDGET[changelist]):
        response = client.get(changelist)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == count


def test_a_posts_report_count_leaves_out_the_reports_about_its_comments(superuser):
    post = PostFactory()
    comment = CommentFactory(post=post)
    ReportFactory(post=post)
    comment_report(comment=comment)
    comment_report(comment=comment)
    request = RequestFactory().get("/admin/")
    request.user = superuser

    posts = admin.site._registry[Post].get_queryset(request)
    comments = admin.site._registry[Comment].get_queryset(request)

    assert posts.get(pk=post.pk).report_count == 1
    assert comments.get(pk=comment.pk).report_count == 2
