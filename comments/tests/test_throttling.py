"""THROTTLE_COMMENT: new comments per member in a window. Past it, a 429 with `Retry-After`
and nothing stored; reading the thread, editing and other members are not held back by it."""

import pytest

from comments.models import Comment

from .factories import CommentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_cache")]

RATE = 3


@pytest.fixture(autouse=True)
def _comment_rate(settings):
    # Rates are read when a request comes (core.throttling.CurrentRateMixin).
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**current, "comment": f"{RATE}/min"},
    }


def comment(client, post, n=0):
    return client.post(f"/posts/{post.pk}/comments", {"content": f"Comment {n}"}, format="json")


def assert_throttled(response):
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/json"
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json() == {
        "detail": f"Request was throttled. Expected available in {retry_after} seconds."
    }


def test_a_member_past_the_comment_rate_gets_a_429_and_nothing_is_stored(auth_client, user, post):
    assert [comment(auth_client, post, n).status_code for n in range(RATE)] == [201] * RATE

    response = comment(auth_client, post, RATE)

    assert_throttled(response)
    assert Comment.objects.filter(author=user).count() == RATE
    assert not Comment.objects.filter(content=f"Comment {RATE}").exists()
    # Replies count against the same budget, on any post.
    parent = CommentFactory(post=post)
    reply = auth_client.post(
        f"/posts/{post.pk}/comments", {"content": "Re.", "parent_id": parent.pk}, format="json"
    )
    assert_throttled(reply)
    assert not parent.replies.exists()


def test_reading_the_thread_is_not_limited_by_the_comment_rate(auth_client, post):
    for n in range(RATE):
        comment(auth_client, post, n)
    assert_throttled(comment(auth_client, post))

    reads = [auth_client.get(f"/posts/{post.pk}/comments") for _ in range(RATE + 2)]

    assert [r.status_code for r in reads] == [200] * (RATE + 2)
    assert reads[-1]["X-Total-Count"] == str(RATE)


def test_reads_do_not_spend_the_comment_budget(auth_client, post):
    for _ in range(RATE + 2):
        assert auth_client.get(f"/posts/{post.pk}/comments").status_code == 200

    assert [comment(auth_client, post, n).status_code for n in range(RATE)] == [201] * RATE


def test_editing_and_deleting_are_not_limited_by_the_comment_rate(auth_client, user, post):
    for n in range(RATE):
        comment(auth_client, post, n)
    assert_throttled(comment(auth_client, post))
    first, second, _ = Comment.objects.filter(author=user)

    edited = auth_client.patch(f"/comments/{first.pk}", {"content": "Edited"}, format="json")
    deleted = auth_client.delete(f"/comments/{second.pk}")

    assert (edited.status_code, deleted.status_code) == (200, 204)
    assert Comment.objects.get(pk=first.pk).content == "Edited"
    assert not Comment.objects.filter(pk=second.pk).exists()


def test_another_member_at_the_same_address_still_comments(auth_client, other_client, post):
    for n in range(RATE):
        comment(auth_client, post, n)
    assert_throttled(comment(auth_client, post))

    response = comment(other_client, post, 99)

    assert response.status_code == 201
    assert Comment.objects.filter(content="Comment 99", author=post.owner).exists()
