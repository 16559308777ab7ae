"""API1 Broken object level authorization: a valid token reaches only its own user's objects.

The attacker holds a perfectly good token of their own and names the victim's objects by id.
(The single-endpoint cases live beside each endpoint's tests: posts/tests/test_api_posts.py for
403 on PUT/PATCH/DELETE, accounts/tests/test_api_tokens.py for logging out someone else's
refresh token; this module sweeps every way in and checks every row afterwards.)
"""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from conftest import authorize
from moderation.models import Report
from posts.models import Post, Vote
from posts.tests.factories import PostFactory

FORBIDDEN = {"detail": "Not authorized to perform requested action"}


def post_row(post) -> dict:
    return Post.objects.filter(pk=post.pk).values().get()


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize(
    "method, body",
    [
        ("put", {"title": "Defaced", "content": "pwned", "published": False}),
        ("patch", {"title": "Defaced"}),
        ("patch", {"published": False}),
        ("patch", {"owner_id": "ATTACKER"}),
        ("delete", None),
    ],
    ids=["put", "patch-title", "patch-unpublish", "patch-owner", "delete"],
)
def test_another_users_post_cannot_be_replaced_changed_or_deleted(
    attacker_client, attacker, victim_post, victim_vote, victim_report, method, body, slash
):
    before = post_row(victim_post)
    if body and body.get("owner_id") == "ATTACKER":
        body = {"owner_id": attacker.pk, "title": "Mine now"}

    response = getattr(attacker_client, method)(
        f"/posts/{victim_post.pk}{slash}", body, format="json"
    )

    assert response.status_code == 403, response.content
    assert response.json() == FORBIDDEN
    assert post_row(victim_post) == before
    assert Vote.objects.filter(pk=victim_vote.pk).exists()
    assert Report.objects.filter(pk=victim_report.pk).exists()


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/posts/{id}", None),
        ("put", "/posts/{id}", {"title": "t", "content": "c"}),
        ("patch", "/posts/{id}", {"title": "t"}),
        ("delete", "/posts/{id}", None),
        ("post", "/posts/{id}/report", {"reason": "r"}),
        ("post", "/vote/", "VOTE1"),
        ("post", "/vote/", "VOTE0"),
    ],
    ids=["get", "put", "patch", "delete", "report", "vote", "unvote"],
)
def test_another_users_draft_does_not_exist_for_the_attacker(
    attacker_client, victim, method, path, body
):
    draft = PostFactory(owner=victim, published=False, title="Secret draft")
    before = post_row(draft)
    if isinstance(body, str):
        body = {"post_id": draft.pk, "dir": int(body[-1])}

    response = getattr(attacker_client, method)(path.format(id=draft.pk), body, format="json")

    assert response.status_code == 404, response.content
    assert "Secret draft" not in response.content.decode()
    assert post_row(draft) == before
    assert not Vote.objects.exists() and not Report.objects.exists()


def test_attacker_never_sees_another_users_draft_in_lists_or_searches(attacker_client, victim):
    PostFactory(owner=victim, published=False, title="Secret draft")

    listed = attacker_client.get("/posts/", {"limit": 100})
    searched = attacker_client.get("/posts/", {"search": "Secret"})

    assert listed.json() == [] and listed["X-Total-Count"] == "0"
    assert searched.json() == [] and searched["X-Total-Count"] == "0"


# Votes ------------------------------------------------------------------------------------


def test_unvote_cannot_remove_another_users_vote(attacker_client, victim_post, victim_vote):
    response = attacker_client.post("/vote/", {"post_id": victim_post.pk, "dir": 0}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Vote does not exist"}
    assert list(Vote.objects.values_list("pk", flat=True)) == [victim_vote.pk]


def test_unvote_removes_the_callers_vote_and_only_theirs(
    attacker_client, attacker, victim_post, victim_vote
):
    body = {"post_id": victim_post.pk}
    assert attacker_client.post("/vote/", {**body, "dir": 1}, format="json").status_code == 201

    first = attacker_client.post("/vote/", {**body, "dir": 0}, format="json")
    second = attacker_client.post("/vote/", {**body, "dir": 0}, format="json")

    assert first.status_code == 201
    assert first.json() == {"message": "successfully deleted vote"}
    assert second.status_code == 404
    assert list(Vote.objects.values_list("pk", flat=True)) == [victim_vote.pk]


def test_a_vote_body_cannot_name_another_voter(attacker_client, attacker, victim, victim_post):
    body = {"post_id": victim_post.pk, "dir": 1, "user_id": victim.pk, "user": victim.pk}

    response = attacker_client.post("/vote/", body, format="json")

    assert response.status_code == 201
    assert list(Vote.objects.values_list("user_id", flat=True)) == [attacker.pk]


# Reports ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_report_cannot_be_read_or_changed_through_the_api(
    attacker_client, victim_post, victim_report, method
):
    before = Report.objects.filter(pk=victim_report.pk).values().get()

    response = getattr(attacker_client, method)(
        f"/posts/{victim_post.pk}/report",
        {"reason": "changed", "status": "dismissed"},
        format="json",
    )

    assert response.status_code == 405
    assert "Victim's reason" not in response.content.decode()
    assert Report.objects.filter(pk=victim_report.pk).values().get() == before


@pytest.mark.parametrize(
    "path", ["/reports", "/reports/", "/reports/{id}", "/posts/{post}/reports"]
)
def test_there_is_no_api_path_that_lists_or_reads_reports(
    attacker_client, victim_post, victim_report, path
):
    response = attacker_client.get(path.format(id=victim_report.pk, post=victim_post.pk))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_reporting_a_post_files_a_new_report_and_leaves_anothers_alone(
    attacker_client, attacker, victim_post, victim_report
):
    before = Report.objects.filter(pk=victim_report.pk).values().get()

    response = attacker_client.post(
        f"/posts/{victim_post.pk}/report",
        {"reason": "mine", "id": victim_report.pk, "reporter_id": victim_report.reporter_id},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["id"] != victim_report.pk
    assert response.json()["reporter_id"] == attacker.pk
    assert "Victim's reason" not in response.content.decode()
    assert Report.objects.filter(pk=victim_report.pk).values().get() == before
    assert Report.objects.count() == 2


def test_a_member_cannot_reach_the_admins_report_queue(client, attacker):
    client.force_login(attacker)  # a session, as the browsable API and the admin use

    response = client.get("/admin/moderation/report/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# /users/me --------------------------------------------------------------------------------


def test_users_me_only_ever_returns_the_caller(attacker_client, attacker, victim):
    victim_client = authorize(APIClient(), victim)

    for _ in range(3):  # interleaved, so no answer can leak from one caller to the other
        assert attacker_client.get("/users/me").json()["id"] == attacker.pk
        assert victim_client.get("/users/me").json()["id"] == victim.pk
    sneaky = attacker_client.get(
        f"/users/me?id={victim.pk}&user_id={victim.pk}",
        HTTP_X_USER_ID=str(victim.pk),
        HTTP_X_FORWARDED_USER=victim.email,
    )
    assert sneaky.json()["id"] == attacker.pk
    assert sneaky.json()["email"] == attacker.email


def test_patch_users_me_changes_only_the_caller_whatever_id_the_body_names(
    attacker_client, attacker, victim
):
    victim_email = victim.email

    response = attacker_client.patch(
        f"/users/me?id={victim.pk}",
        {"id": victim.pk, "user_id": victim.pk, "email": "new-attacker@example.com"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["id"] == attacker.pk
    assert User.objects.get(pk=attacker.pk).email == "new-attacker@example.com"
    assert User.objects.get(pk=victim.pk).email == victim_email


def test_patch_users_me_cannot_take_another_users_email(attacker_client, attacker, victim):
    response = attacker_client.patch("/users/me", {"email": victim.email.upper()}, format="json")

    assert response.status_code == 409
    assert User.objects.get(pk=attacker.pk).email != victim.email
