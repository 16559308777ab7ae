"""`Idempotency-Key` (docs/api.md Part 4): one effect, the first answer replayed, 422 for a key used
for another request, 409 for a repeat while the first runs, nothing left by a crash."""

import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Block, User
from accounts.tests.factories import PASSWORD, UserFactory
from comments.models import Comment
from comments.tests.factories import CommentFactory
from conftest import login
from core import idempotency
from core.models import IdempotencyKey
from core.tests.concurrency import client_for, skip_without_real_locks
from moderation.models import Report
from posts.models import Post, Vote
from posts.tests.factories import PostFactory
from social.models import Follow

NEW_PASSWORD = "another-long-passphrase"
KEY = "6f7a1e3e-2c9d-4b1a-9d0a-6a6f2b6b9b3a"


def send(client, path, body=None, *, key=KEY, method="post", **extra):
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return getattr(client, method)(path, body, format="json", **extra)


def header_422(message: str) -> dict:
    return {
        "detail": [{"loc": ["header", "Idempotency-Key"], "msg": message, "type": "value_error"}]
    }


def keep_then(monkeypatch, after):
    """Run `after()` where a crash strikes: effect and record written, uncommitted; gives _keep"""
    keep = idempotency._keep

    def keep_and_then(**kwargs):
        keep(**kwargs)
        after()

    monkeypatch.setattr(idempotency, "_keep", keep_and_then)
    return keep


def repeat_while_the_first_runs(monkeypatch, token, body, hold, release=lambda: None):
    """The same POST again while the first (a thread) holds before its commit: a retry racing it."""
    inside = threading.Event()

    def mark_and_hold():
        inside.set()
        hold()

    keep_then(monkeypatch, mark_and_hold)
    answers = {}

    def first():
        try:
            answers["first"] = send(client_for(token), "/posts/", body)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(timeout=30), "the first request never reached its commit"
        repeat = send(client_for(token), "/posts/", body)
    finally:
        release()
        thread.join(timeout=30)
    return answers["first"], repeat


@dataclass
class Case:
    path: str
    body: dict | None
    status: int
    effect: object  # () -> how many rows the request made
    anonymous: bool = False


@pytest.fixture
def case_for(user, other_user):
    """Each POST the contract lists, by name (the password change has tests of its own)."""

    def build(name: str) -> Case:
        post = PostFactory(owner=other_user)
        if name == "sign-up":
            email = "new-member@example.com"
            body = {"email": email, "password": "a-long-passphrase"}
            return Case("/users/", body, 201, User.objects.filter(email=email).count, True)
        if name == "post":
            body = {"title": "Hello", "content": "Once only"}
            return Case("/posts/", body, 201, Post.objects.filter(owner=user).count)
        if name == "vote":
            body = {"post_id": post.pk, "dir": 1}
            return Case("/vote/", body, 201, Vote.objects.filter(user=user).count)
        if name == "comment":
            effect = Comment.objects.filter(author=user).count
            return Case(f"/posts/{post.pk}/comments", {"content": "Hi"}, 201, effect)
        if name == "post report":
            effect = Report.objects.filter(reporter=user).count
            return Case(f"/posts/{post.pk}/report", {"reason": "Spam"}, 201, effect)
        if name == "comment report":
            comment = CommentFactory(post=post, author=other_user)
            effect = Report.objects.filter(reporter=user).count
            return Case(f"/comments/{comment.pk}/report", {"reason": "Spam"}, 201, effect)
        if name == "follow":
            effect = Follow.objects.filter(follower=user).count
            return Case(f"/users/{other_user.pk}/follow", None, 201, effect)
        if name == "block":
            effect = Block.objects.filter(blocker=user).count
            return Case(f"/users/{other_user.pk}/block", None, 201, effect)
        raise AssertionError(name)

    return build


ENDPOINTS = [
    "sign-up",
    "post",
    "vote",
    "comment",
    "post report",
    "comment report",
    "follow",
    "block",
]


# --- replay --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ENDPOINTS)
def test_repeat_with_the_same_key_replays_the_first_answer_and_has_one_effect(
    name, case_for, auth_client, api_client
):
    case = case_for(name)
    client = api_client if case.anonymous else auth_client

    first = send(client, case.path, case.body)
    again = send(client, case.path, case.body)

    assert first.status_code == case.status, first.content
    assert "Idempotent-Replayed" not in first
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert again.get("Location") == first.get("Location")
    assert again["Idempotent-Replayed"] == "true"
    assert case.effect() == 1
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_a_created_post_is_replayed_with_its_location_and_the_same_post(auth_client, user):
    first = send(auth_client, "/posts/", {"title": "Hello", "content": "Once only"})
    again = send(auth_client, "/posts", {"title": "Hello", "content": "Once only"})  # no slash

    post = Post.objects.get(owner=user)
    assert first["Location"] == again["Location"] == f"/posts/{post.pk}"
    assert again.json() == first.json() and again.json()["id"] == post.pk
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_password_change_is_replayed_not_run_again(auth_client, user):
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}

    first = send(auth_client, "/users/me/password", body)
    # The change revoked the old token: the retry comes with one from the new password.
    tokens = login(APIClient(), user, NEW_PASSWORD)
    again = send(client_for(tokens["access_token"]), "/users/me/password", body)

    assert first.status_code == again.status_code == 204
    assert again.content == b""
    assert "Content-Type" not in again
    assert again["Idempotent-Replayed"] == "true"  # run again, it would be a 403
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_an_error_answer_is_kept_and_replayed_too(auth_client, user):
    post = PostFactory()
    Vote.objects.create(user=user, post=post)

    first = send(auth_client, "/vote/", {"post_id": post.pk, "dir": 1})
    again = send(auth_client, "/vote/", {"post_id": post.pk, "dir": 1})

    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Vote.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_an_invalid_body_is_kept_so_the_key_stays_bound_to_it(auth_client):
    first = send(auth_client, "/posts/", {"title": "No content"})
    again = send(auth_client, "/posts/", {"title": "No content"})
    fixed = send(auth_client, "/posts/", {"title": "No content", "content": "now"})

    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert fixed.status_code == 422
    assert fixed.json() == header_422(idempotency.REUSED)
    assert not Post.objects.exists()


# --- 422: the key used for another request -----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["sign-up", "post", "vote", "comment", "post report"])
def test_same_key_with_a_different_body_is_422_and_has_no_effect(
    name, case_for, auth_client, api_client
):
    case = case_for(name)
    client = api_client if case.anonymous else auth_client
    send(client, case.path, case.body)
    changed = {key: f"{value}-changed" for key, value in case.body.items()}
    if name == "vote":
        changed = {**case.body, "dir": 0}

    response = send(client, case.path, changed)

    assert response.status_code == 422
    assert response.json() == header_422(idempotency.REUSED)
    assert "Idempotent-Replayed" not in response
    assert case.effect() == 1


@pytest.mark.django_db
def test_same_key_on_a_different_path_is_422(auth_client, user):
    first, second = UserFactory.create_batch(2)
    send(auth_client, f"/users/{first.pk}/follow")

    response = send(auth_client, f"/users/{second.pk}/follow")
    posted = send(auth_client, "/posts/", {"title": "t", "content": "c"})

    assert response.status_code == posted.status_code == 422
    assert response.json() == header_422(idempotency.REUSED)
    assert list(Follow.objects.filter(follower=user).values_list("followee", flat=True)) == [
        first.pk
    ]
    assert not Post.objects.exists()


@pytest.mark.django_db
def test_same_key_with_a_different_method_is_422_and_changes_nothing(auth_client, user):
    followee = UserFactory()
    send(auth_client, f"/users/{followee.pk}/follow")
    created = send(auth_client, "/posts/", {"title": "t", "content": "c"}, key="post-key")
    post_id = created.json()["id"]

    unfollow = send(auth_client, f"/users/{followee.pk}/follow", method="delete")
    put = send(
        auth_client,
        f"/posts/{post_id}",
        {"title": "x", "content": "y"},
        key="post-key",
        method="put",
    )
    delete = send(auth_client, f"/posts/{post_id}", key="post-key", method="delete")

    assert unfollow.status_code == put.status_code == delete.status_code == 422
    assert unfollow.json() == put.json() == delete.json() == header_422(idempotency.REUSED)
    assert Follow.objects.filter(follower=user, followee=followee).exists()
    assert Post.objects.get(pk=post_id).title == "t"


@pytest.mark.django_db
def test_a_fresh_key_on_other_writes_is_ignored_and_not_kept(auth_client, user):
    post = PostFactory(owner=user)

    put = send(auth_client, f"/posts/{post.pk}", {"title": "x", "content": "y"}, method="put")
    read = send(auth_client, "/notifications/read", {}, key="another")
    listed = auth_client.get("/posts/", HTTP_IDEMPOTENCY_KEY=KEY)

    assert (put.status_code, read.status_code, listed.status_code) == (200, 204, 200)
    assert not IdempotencyKey.objects.exists()


# --- scope: never another caller's answer ------------------------------------------------------


@pytest.mark.django_db
def test_another_member_with_the_same_key_gets_their_own_effect(auth_client, other_client):
    body = {"title": "Same words", "content": "Same key"}

    mine = send(auth_client, "/posts/", body)
    theirs = send(other_client, "/posts/", body)

    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["owner_id"] != mine.json()["owner_id"]
    assert Post.objects.count() == 2


@pytest.mark.django_db
def test_another_member_reusing_a_key_with_another_body_is_not_refused(auth_client, other_client):
    send(auth_client, "/posts/", {"title": "Mine", "content": "x"})

    theirs = send(other_client, "/posts/", {"title": "Theirs", "content": "y"})

    assert theirs.status_code == 201
    assert theirs.json()["title"] == "Theirs"


@pytest.mark.django_db
def test_anonymous_sign_up_keys_are_scoped_per_client_address(api_client):
    ann = {"email": "ann@example.com", "password": "a-long-passphrase"}
    bob = {"email": "bob@example.com", "password": "a-long-passphrase"}

    first = send(api_client, "/users/", ann, REMOTE_ADDR="10.0.0.1")
    elsewhere = send(api_client, "/users/", bob, REMOTE_ADDR="10.0.0.2")
    again = send(api_client, "/users/", ann, REMOTE_ADDR="10.0.0.1")

    assert first.status_code == elsewhere.status_code == 201
    assert "Idempotent-Replayed" not in elsewhere
    assert elsewhere.json()["email"] == "bob@example.com"
    assert again["Idempotent-Replayed"] == "true"
    assert User.objects.filter(email__in=["ann@example.com", "bob@example.com"]).count() == 2
    assert set(IdempotencyKey.objects.values_list("scope", flat=True)) == {
        "addr:10.0.0.1",
        "addr:10.0.0.2",
    }


# --- malformed keys ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "tab\there", "del\x7f", "caf\xe9", "new\nline"],
    ids=["empty", "256-chars", "tab", "del", "latin-1", "newline"],
)
def test_a_malformed_key_is_422_about_the_header_and_has_no_effect(auth_client, key):
    response = send(auth_client, "/posts/", {"title": "t", "content": "c"}, key=key)

    assert response.status_code == 422
    assert response.json() == header_422(idempotency.MALFORMED)
    assert not Post.objects.exists()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["k" * 255, " ", "~!@#$%^&*()_+{}|:<>?"])
def test_any_1_to_255_printable_ascii_characters_make_a_key(auth_client, key):
    response = send(auth_client, "/posts/", {"title": "t", "content": "c"}, key=key)

    assert response.status_code == 201
    assert IdempotencyKey.objects.get().key == key


@pytest.mark.django_db
def test_without_a_key_a_post_is_run_each_time(auth_client):
    answers = [send(auth_client, "/posts/", {"title": "t", "content": "c"}, key=None) for _ in "12"]

    assert [answer.status_code for answer in answers] == [201, 201]
    assert Post.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


# --- crashes and server errors -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_crash_between_the_effect_and_the_response_leaves_neither(auth_client, monkeypatch):
    def crash():
        raise RuntimeError("the worker died here")

    keep = keep_then(monkeypatch, crash)
    auth_client.raise_request_exception = False
    body = {"title": "Hello", "content": "Once only"}

    crashed = send(auth_client, "/posts/", body)

    assert crashed.status_code == 500
    assert not Post.objects.exists()
    assert not IdempotencyKey.objects.exists()

    monkeypatch.setattr(idempotency, "_keep", keep)
    retried = send(auth_client, "/posts/", body)
    again = send(auth_client, "/posts/", body)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert again["Idempotent-Replayed"] == "true"
    assert Post.objects.count() == 1


@pytest.mark.django_db
def test_a_server_error_is_not_kept_so_a_retry_runs_again(auth_client, user, monkeypatch):
    post = PostFactory()

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("posts.services.vote_create", broken)
    auth_client.raise_request_exception = False

    failed = send(auth_client, "/vote/", {"post_id": post.pk, "dir": 1})
    monkeypatch.undo()
    retried = send(auth_client, "/vote/", {"post_id": post.pk, "dir": 1})

    assert failed.status_code == 500
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert Vote.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_before_its_commit_leaves_neither_and_the_retry_runs_once(
    user, monkeypatch
):
    skip_without_real_locks()
    token = login(APIClient(), user)["access_token"]
    # The process dies as a killed worker would: no response, no commit.
    keep = keep_then(monkeypatch, lambda: os._exit(17))
    body = {"title": "Hello", "content": "Once only"}
    connections.close_all()  # the child opens its own connection, never the parent's
    pid = os.fork()
    if pid == 0:
        try:
            send(client_for(token), "/posts/", body)
        finally:
            os._exit(1)  # never back into pytest in the child
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 17
    assert not Post.objects.exists()
    assert not IdempotencyKey.objects.exists()
    monkeypatch.setattr(idempotency, "_keep", keep)
    retried = send(client_for(token), "/posts/", body)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert Post.objects.count() == 1


# --- a repeat while the first runs -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_repeat_while_the_first_runs_is_409_and_the_effect_happens_once(user, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite queues the repeat behind the first's lock: it replays instead")
    token = login(APIClient(), user)["access_token"]
    release = threading.Event()
    body = {"title": "Hello", "content": "Once only"}

    first, repeat = repeat_while_the_first_runs(
        monkeypatch, token, body, hold=lambda: release.wait(timeout=30), release=release.set
    )

    assert repeat.status_code == 409
    assert repeat.json() == {"detail": idempotency.RUNNING}
    assert first.status_code == 201
    assert Post.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    replay = send(client_for(token), "/posts/", body)
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == first.content


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_repeat_while_the_first_runs_waits_for_it_and_replays(user, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL answers 409 instead (the test above)")
    skip_without_real_locks()
    token = login(APIClient(), user)["access_token"]
    body = {"title": "Hello", "content": "Once only"}

    # The repeat starts while the first sleeps and waits for the database's lock.
    first, repeat = repeat_while_the_first_runs(
        monkeypatch, token, body, hold=lambda: time.sleep(0.5)
    )

    assert first.status_code == repeat.status_code == 201
    assert repeat["Idempotent-Replayed"] == "true"
    assert repeat.content == first.content
    assert Post.objects.count() == 1


# --- expiry and the purge -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_record_past_its_hours_is_not_replayed(auth_client, settings):
    body = {"title": "Hello", "content": "Once only"}
    send(auth_client, "/posts/", body)
    age = timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS, seconds=1)
    IdempotencyKey.objects.update(created_at=timezone.now() - age)

    again = send(auth_client, "/posts/", body)
    changed = send(auth_client, "/posts/", {"title": "Other", "content": "body"}, key="k2")

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert changed.status_code == 201
    assert Post.objects.count() == 3
    assert IdempotencyKey.objects.expired().count() == 0  # the old record made way for the new


@pytest.mark.django_db
def test_an_expired_key_is_no_longer_refused_on_other_writes(auth_client, user, settings):
    followee = UserFactory()
    send(auth_client, f"/users/{followee.pk}/follow")
    age = timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS, seconds=1)
    IdempotencyKey.objects.update(created_at=timezone.now() - age)

    response = send(auth_client, f"/users/{followee.pk}/follow", method="delete")

    assert response.status_code == 204


@pytest.mark.django_db
def test_purge_deletes_expired_records_and_keeps_fresh_ones(user, settings, capsys):
    settings.IDEMPOTENCY_KEY_HOURS = 2
    now = timezone.now()
    for key, hours in [("old", 3), ("just-old", 2), ("fresh", 1), ("new", 0)]:
        IdempotencyKey.objects.create(
            scope=f"user:{user.pk}",
            key=key,
            request_hash="0" * 64,
            status=201,
            body=b"{}",
            created_at=now - timedelta(hours=hours, seconds=1 if hours else 0),
        )

    call_command("purge_idempotency_keys")

    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"fresh", "new"}
    assert "Deleted 2 idempotency keys older than 2 hours." in capsys.readouterr().out


# --- the schema ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_documents_the_key_on_exactly_the_listed_posts(api_client):
    schema = api_client.get("/openapi.json").json()

    taking_key = {
        (path, method)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }

    assert taking_key == {
        ("/users/", "post"),
        ("/users/me/password", "post"),
        ("/posts/", "post"),
        ("/vote/", "post"),
        ("/posts/{id}/comments", "post"),
        ("/posts/{id}/report", "post"),
        ("/comments/{id}/report", "post"),
        ("/users/{id}/follow", "post"),
        ("/users/{id}/block", "post"),
    }
    operation = schema["paths"]["/posts/"]["post"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert parameter["in"] == "header" and parameter["schema"]["pattern"] == "^[ -~]{1,255}$"
    assert {"409", "422"} <= set(operation["responses"])
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
