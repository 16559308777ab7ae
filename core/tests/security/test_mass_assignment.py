"""API3 Mass assignment: fields a client may not set are ignored in every body that writes.

Privileges (`is_staff`, `is_superuser`, `is_active`), ownership (`owner_id`, `reporter_id`,
`user_id`), moderation (`hidden_at`, `hidden_by`, `hidden_reason`, a report's `status`) and
bookkeeping (`id`, `created_at`, `votes`) come from the server, never from the request. Each
case sends them all, in JSON and in a form, and checks the row afterwards. (The endpoints'
own tests check `id`, `owner_id`, `created_at` and `votes` one by one.)
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import authorize
from moderation import services
from moderation.models import Report
from posts.models import Post, Vote
from posts.tests.factories import PostFactory

LONG_AGO = "2000-01-01T00:00:00Z"


def privileged_fields(victim, moderator=None) -> dict:
    """Every field an attacker would like to set, with the value they would like."""
    return {
        "id": 999_999,
        "pk": 999_999,
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "groups": [1],
        "user_permissions": [1],
        "last_login": LONG_AGO,
        "created_at": LONG_AGO,
        "owner_id": victim.pk,
        "owner": victim.pk,
        "user_id": victim.pk,
        "reporter_id": victim.pk,
        "reporter": victim.pk,
        "hidden_at": None if moderator else LONG_AGO,
        "hidden_by": victim.pk,
        "hidden_by_id": victim.pk,
        "hidden_reason": "",
        "hidden": False,
        "votes": 1000,
        "vote_count": 1000,
        "status": "resolved",
        "resolved_at": LONG_AGO,
        "resolved_by": victim.pk,
    }


def as_form(body: dict) -> dict:
    """The same fields as form values (a form has no null: an empty string stands for it)."""
    return {key: "" if value is None else str(value) for key, value in body.items()}


BODY_FORMATS = pytest.mark.parametrize("body_format", ["json", "multipart"])


def send(client, method, path, body, body_format):
    if body_format == "multipart":
        body = as_form(body)
    return getattr(client, method)(path, body, format=body_format)


def is_recent(moment) -> bool:
    return timezone.now() - moment < timedelta(minutes=5)


@pytest.fixture
def attacker_client(user):
    return authorize(APIClient(), user)


@pytest.fixture
def moderator(db):
    return UserFactory(is_staff=True, is_superuser=True)


# Accounts ---------------------------------------------------------------------------------


@BODY_FORMATS
def test_sign_up_ignores_privileges_and_bookkeeping_in_the_body(other_user, body_format):
    body = {
        **privileged_fields(other_user),
        "email": "new@example.com",
        "password": "a-long-passphrase",
    }

    response = send(APIClient(), "post", "/users/", body, body_format)

    assert response.status_code == 201, response.content
    created = User.objects.get(email="new@example.com")
    assert (created.is_staff, created.is_superuser, created.is_active) == (False, False, True)
    assert created.pk != 999_999 and response.json()["id"] == created.pk
    assert is_recent(created.created_at) and created.last_login is None
    assert not created.groups.exists() and not created.user_permissions.exists()
    assert created.check_password("a-long-passphrase")


@BODY_FORMATS
def test_patch_users_me_changes_the_email_and_nothing_else(
    attacker_client, user, other_user, body_format
):
    before = User.objects.filter(pk=user.pk).values().get()
    body = {**privileged_fields(other_user), "email": "moved@example.com", "password": "x"}

    response = send(attacker_client, "patch", "/users/me", body, body_format)

    assert response.status_code == 200, response.content
    after = User.objects.filter(pk=user.pk).values().get()
    assert after == {**before, "email": "moved@example.com"}
    assert User.objects.filter(pk=other_user.pk).values_list("is_active", flat=True).get()


# Posts ------------------------------------------------------------------------------------


@BODY_FORMATS
def test_create_post_ignores_ownership_moderation_and_bookkeeping(
    attacker_client, user, other_user, body_format
):
    body = {**privileged_fields(other_user), "title": "Mine", "content": "Words"}

    response = send(attacker_client, "post", "/posts/", body, body_format)

    assert response.status_code == 201, response.content
    post = Post.objects.get()
    assert post.owner_id == user.pk and post.pk != 999_999
    assert (post.hidden_at, post.hidden_by_id, post.hidden_reason) == (None, None, "")
    assert is_recent(post.created_at)
    assert not Vote.objects.exists()
    assert response.json()["owner_id"] == user.pk


@BODY_FORMATS
@pytest.mark.parametrize("method", ["put", "patch"])
def test_changing_an_own_post_keeps_its_owner_id_and_creation_time(
    attacker_client, user, other_user, method, body_format
):
    post = PostFactory(owner=user)
    created_at = post.created_at
    body = {**privileged_fields(other_user), "title": "Edited", "content": "Edited too"}

    response = send(attacker_client, method, f"/posts/{post.pk}", body, body_format)

    assert response.status_code == 200, response.content
    post.refresh_from_db()
    assert (post.pk, post.owner_id, post.created_at) == (post.pk, user.pk, created_at)
    assert (post.hidden_at, post.hidden_by_id, post.hidden_reason) == (None, None, "")
    assert post.title == "Edited"
    assert not Vote.objects.exists()
    assert not Post.objects.filter(pk=999_999).exists()


@BODY_FORMATS
@pytest.mark.parametrize("method", ["put", "patch"])
def test_the_owner_of_a_hidden_post_cannot_unhide_it_by_editing(
    attacker_client, user, other_user, moderator, method, body_format
):
    post = services.post_hide(post=PostFactory(owner=user), moderator=moderator, reason="spam")
    hidden = (post.hidden_at, post.hidden_by_id, post.hidden_reason)
    body = {**privileged_fields(user, moderator), "title": "Nothing to see", "content": "ok"}

    response = send(attacker_client, method, f"/posts/{post.pk}", body, body_format)

    assert response.status_code == 200, response.content
    post.refresh_from_db()
    assert (post.hidden_at, post.hidden_by_id, post.hidden_reason) == hidden
    assert not Post.objects.visible_to(other_user).filter(pk=post.pk).exists()


# Votes and reports ------------------------------------------------------------------------


@BODY_FORMATS
def test_vote_is_the_callers_whatever_the_body_says(attacker_client, user, other_user, body_format):
    post = PostFactory(owner=other_user)
    body = {**privileged_fields(other_user), "post_id": post.pk, "dir": 1}

    response = send(attacker_client, "post", "/vote/", body, body_format)

    assert response.status_code == 201, response.content
    vote = Vote.objects.get()
    assert (vote.user_id, vote.post_id) == (user.pk, post.pk)
    assert vote.pk != 999_999 and is_recent(vote.created_at)


@BODY_FORMATS
def test_report_is_open_and_the_callers_whatever_the_body_says(
    attacker_client, user, other_user, body_format
):
    post = PostFactory(owner=other_user)
    elsewhere = PostFactory(owner=other_user)
    body = {**privileged_fields(other_user), "post_id": elsewhere.pk, "post": elsewhere.pk}

    response = send(
        attacker_client, "post", f"/posts/{post.pk}/report", {**body, "reason": "Spam"}, body_format
    )

    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert (report.reporter_id, report.post_id) == (user.pk, post.pk)
    assert report.status == Report.Status.OPEN
    assert (report.resolved_at, report.resolved_by_id) == (None, None)
    assert report.pk != 999_999 and is_recent(report.created_at)
    assert response.json()["status"] == "open"
