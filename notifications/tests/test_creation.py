"""Which actions notify whom (docs/api.md Part 3, "Notifications"), through the API: the shape,
never one's own actions, hidden across a block, gone with what they were about.
(The handlers past the API, and atomicity: test_signals.py.)"""

import pytest
from rest_framework.test import APIClient

from accounts.models import Block
from accounts.tests.factories import UserFactory
from comments.models import Comment
from comments.tests.factories import CommentFactory
from conftest import authorize
from core import cache
from notifications.models import Notification
from posts.models import Post, Vote
from posts.tests.factories import PostFactory
from social.models import Follow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["no cache", "redis"])
def _cache(request, settings):
    # The first page and the unread count may come from the shared cache: every answer here
    # must be the same with it, however the inbox changed in between.
    settings.API_CACHE = request.param != "no cache"
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    cache.memory.clear()


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def user_json(user) -> dict:
    return {"id": user.pk, "email": user.email, "created_at": iso(user.created_at)}


def client_of(user) -> APIClient:
    return authorize(APIClient(), user)


def inbox(client) -> list[dict]:
    response = client.get("/notifications")
    assert response.status_code == 200, response.content
    return response.json()


def unread(client) -> int:
    response = client.get("/notifications/unread")
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"count"}
    return response.json()["count"]


def warm(client) -> tuple[list[dict], int]:
    """Read the inbox and the unread count, as an app polling would (with the cache on, both
    are then cached: what follows must not be answered from a stale copy)."""
    return inbox(client), unread(client)


def kinds() -> list[tuple]:
    """Every notification in the database, as (recipient, actor, type, post, comment)."""
    return sorted(
        Notification.objects.values_list(
            "recipient_id", "actor_id", "type", "post_id", "comment_id"
        )
    )


def like(client, post, direction=1):
    return client.post("/vote/", {"post_id": post.pk, "dir": direction}, format="json")


def comment_on(client, post, content="Nice one", parent=None):
    body = {"content": content}
    if parent is not None:
        body["parent_id"] = parent.pk
    response = client.post(f"/posts/{post.pk}/comments", body, format="json")
    assert response.status_code == 201, response.content
    return Comment.objects.get(pk=response.json()["id"])


# --- created through the API, in the Notification shape -----------------------------------------


def test_following_tells_the_followee(user, auth_client, other_user, other_client):
    response = auth_client.post(f"/users/{other_user.pk}/follow")

    assert response.status_code == 201, response.content
    assert response.json()["id"] == other_user.pk
    stored = Notification.objects.get()
    assert (stored.recipient, stored.actor, stored.type) == (other_user, user, "follow")
    assert (stored.post, stored.comment, stored.read) == (None, None, False)
    assert inbox(other_client) == [
        {
            "id": stored.pk,
            "type": "follow",
            "actor": user_json(user),
            "post_id": None,
            "comment_id": None,
            "created_at": iso(stored.created_at),
            "read": False,
        }
    ]
    assert unread(other_client) == 1
    assert inbox(auth_client) == []  # the follower is told nothing


def test_a_like_tells_the_posts_owner(user, auth_client, other_user, other_client):
    post = PostFactory(owner=other_user)

    response = like(auth_client, post)

    assert (response.status_code, response.json()) == (201, {"message": "successfully added vote"})
    stored = Notification.objects.get()
    assert (stored.recipient, stored.actor, stored.type) == (other_user, user, "vote")
    assert (stored.post, stored.comment) == (post, None)
    assert inbox(other_client) == [
        {
            "id": stored.pk,
            "type": "vote",
            "actor": user_json(user),
            "post_id": post.pk,
            "comment_id": None,
            "created_at": iso(stored.created_at),
            "read": False,
        }
    ]
    assert inbox(auth_client) == []


def test_a_comment_tells_the_posts_owner(user, auth_client, other_user, other_client):
    post = PostFactory(owner=other_user)

    comment = comment_on(auth_client, post)

    stored = Notification.objects.get()
    assert (stored.recipient, stored.actor, stored.type) == (other_user, user, "comment")
    assert (stored.post, stored.comment) == (post, comment)
    assert inbox(other_client) == [
        {
            "id": stored.pk,
            "type": "comment",
            "actor": user_json(user),
            "post_id": post.pk,
            "comment_id": comment.pk,
            "created_at": iso(stored.created_at),
            "read": False,
        }
    ]
    assert inbox(auth_client) == []


def test_a_reply_tells_the_parents_author_and_the_posts_owner(user, auth_client):
    owner, author = UserFactory(), UserFactory()
    post = PostFactory(owner=owner)
    parent = CommentFactory(post=post, author=author)
    Notification.objects.all().delete()  # the parent's own "comment" for the owner

    reply = comment_on(auth_client, post, "I disagree", parent=parent)

    assert kinds() == sorted(
        [
            (author.pk, user.pk, "reply", post.pk, reply.pk),
            (owner.pk, user.pk, "comment", post.pk, reply.pk),
        ]
    )
    told_author = Notification.objects.get(recipient=author)
    assert inbox(client_of(author)) == [
        {
            "id": told_author.pk,
            "type": "reply",
            "actor": user_json(user),
            "post_id": post.pk,
            "comment_id": reply.pk,
            "created_at": iso(told_author.created_at),
            "read": False,
        }
    ]
    assert [n["type"] for n in inbox(client_of(owner))] == ["comment"]


def test_a_reply_to_the_posts_owner_tells_them_once_as_a_reply(user, auth_client, other_user):
    post = PostFactory(owner=other_user)
    parent = CommentFactory(post=post, author=other_user)  # the owner's own comment

    reply = comment_on(auth_client, post, parent=parent)

    assert kinds() == [(other_user.pk, user.pk, "reply", post.pk, reply.pk)]
    assert unread(client_of(other_user)) == 1


def test_the_owner_replying_on_their_post_tells_only_the_parents_author(user, auth_client):
    commenter = UserFactory()
    post = PostFactory(owner=user)
    parent = CommentFactory(post=post, author=commenter)
    Notification.objects.all().delete()

    reply = comment_on(auth_client, post, parent=parent)

    assert kinds() == [(commenter.pk, user.pk, "reply", post.pk, reply.pk)]


def test_replying_to_oneself_tells_only_the_posts_owner(user, auth_client, other_user):
    post = PostFactory(owner=other_user)
    parent = comment_on(auth_client, post, "first")

    reply = comment_on(auth_client, post, "and another thing", parent=parent)

    assert kinds() == [
        (other_user.pk, user.pk, "comment", post.pk, parent.pk),
        (other_user.pk, user.pk, "comment", post.pk, reply.pk),
    ]
    assert inbox(auth_client) == []


# --- never for one's own actions ---------------------------------------------------------------


def test_liking_and_commenting_on_ones_own_post_tells_nobody(user, auth_client):
    post = PostFactory(owner=user)

    assert like(auth_client, post).status_code == 201
    comment = comment_on(auth_client, post)
    comment_on(auth_client, post, "replying to myself", parent=comment)

    assert Vote.objects.filter(user=user, post=post).count() == 1
    assert Comment.objects.filter(author=user).count() == 2
    assert not Notification.objects.exists()
    assert inbox(auth_client) == []
    assert unread(auth_client) == 0


# --- never across a block ----------------------------------------------------------------------


def test_a_blocked_member_cannot_act_through_the_api_and_nobody_is_told(
    user, auth_client, other_user, other_client
):
    post = PostFactory(owner=other_user)
    assert other_client.post(f"/users/{user.pk}/block").status_code == 201

    follow = auth_client.post(f"/users/{other_user.pk}/follow")
    vote = like(auth_client, post)
    comment = auth_client.post(f"/posts/{post.pk}/comments", {"content": "hi"}, format="json")

    assert (follow.status_code, follow.json()) == (403, {"detail": "You cannot follow this user"})
    assert (vote.status_code, comment.status_code) == (404, 404)
    assert not Notification.objects.exists()
    assert inbox(other_client) == []


@pytest.mark.parametrize("blocker", ["recipient", "actor"])
def test_a_block_hides_a_notification_and_lifting_it_shows_it_again(
    user, auth_client, other_user, other_client, blocker
):
    # `user` likes `other_user`'s post; then either blocks the other.
    post = PostFactory(owner=other_user)
    assert like(auth_client, post).status_code == 201
    told = Notification.objects.get()
    shown, count = warm(other_client)
    assert ([n["id"] for n in shown], count) == ([told.pk], 1)
    blocker_client, blocked = (
        (other_client, user) if blocker == "recipient" else (auth_client, other_user)
    )

    response = blocker_client.post(f"/users/{blocked.pk}/block")

    assert (response.status_code, response.json()) == (201, {"message": "blocked"})
    assert inbox(other_client) == []
    assert unread(other_client) == 0
    assert Notification.objects.filter(pk=told.pk).exists()  # hidden, not deleted

    response = blocker_client.delete(f"/users/{blocked.pk}/block")

    assert response.status_code == 204
    assert not Block.objects.exists()
    assert inbox(other_client) == shown
    assert unread(other_client) == 1


def test_a_block_deletes_follow_notifications_for_good(user, auth_client, other_user, other_client):
    # A block ends follows both ways, and an ended follow takes its notification along.
    assert auth_client.post(f"/users/{other_user.pk}/follow").status_code == 201
    assert other_client.post(f"/users/{user.pk}/follow").status_code == 201
    assert Notification.objects.filter(type="follow").count() == 2
    assert (len(warm(other_client)[0]), len(warm(auth_client)[0])) == (1, 1)

    assert other_client.post(f"/users/{user.pk}/block").status_code == 201

    assert not Follow.objects.exists()
    assert not Notification.objects.exists()

    assert other_client.delete(f"/users/{user.pk}/block").status_code == 204

    assert not Notification.objects.exists()
    assert inbox(other_client) == [] and inbox(auth_client) == []
    assert unread(other_client) == 0 and unread(auth_client) == 0


# --- undone, deleted: the notification goes too -----------------------------------------------


def test_unliking_deletes_the_vote_notification_even_once_read(
    user, auth_client, other_user, other_client
):
    post = PostFactory(owner=other_user)
    assert like(auth_client, post).status_code == 201
    assert other_client.post("/notifications/read", {}, format="json").status_code == 204
    shown, count = warm(other_client)
    assert ([n["read"] for n in shown], count) == ([True], 0)

    response = like(auth_client, post, 0)

    assert (response.status_code, response.json()) == (
        201,
        {"message": "successfully deleted vote"},
    )
    assert not Vote.objects.exists()
    assert not Notification.objects.exists()
    assert inbox(other_client) == []


def test_liking_again_after_unliking_tells_exactly_once(
    user, auth_client, other_user, other_client
):
    post = PostFactory(owner=other_user)
    assert like(auth_client, post).status_code == 201
    first = Notification.objects.get()
    assert warm(other_client)[1] == 1
    assert like(auth_client, post, 0).status_code == 201
    assert warm(other_client) == ([], 0)

    assert like(auth_client, post).status_code == 201

    again = Notification.objects.get()
    assert again.pk != first.pk
    assert (again.recipient, again.actor, again.type, again.post, again.read) == (
        other_user,
        user,
        "vote",
        post,
        False,
    )
    assert [n["id"] for n in inbox(other_client)] == [again.pk]
    assert unread(other_client) == 1


def test_a_second_like_is_a_409_and_tells_nothing_more(auth_client, other_user):
    post = PostFactory(owner=other_user)
    assert like(auth_client, post).status_code == 201

    response = like(auth_client, post)

    assert response.status_code == 409
    assert Notification.objects.count() == 1


def test_unfollowing_deletes_the_follow_notification(user, auth_client, other_user, other_client):
    assert auth_client.post(f"/users/{other_user.pk}/follow").status_code == 201
    assert warm(other_client)[1] == 1

    response = auth_client.delete(f"/users/{other_user.pk}/follow")

    assert response.status_code == 204
    assert not Follow.objects.exists()
    assert not Notification.objects.exists()
    assert warm(other_client) == ([], 0)


def test_following_again_after_unfollowing_tells_exactly_once(auth_client, other_user):
    assert auth_client.post(f"/users/{other_user.pk}/follow").status_code == 201
    assert auth_client.delete(f"/users/{other_user.pk}/follow").status_code == 204

    assert auth_client.post(f"/users/{other_user.pk}/follow").status_code == 201
    assert auth_client.post(f"/users/{other_user.pk}/follow").status_code == 200  # already

    assert Notification.objects.filter(recipient=other_user, type="follow").count() == 1


def test_deleting_a_comment_deletes_its_notifications_and_its_replies(
    user, auth_client, other_user, other_client
):
    third = UserFactory()
    post = PostFactory(owner=other_user)
    comment = comment_on(auth_client, post)  # tells the owner
    reply = comment_on(client_of(third), post, parent=comment)  # tells user and the owner
    kept = comment_on(client_of(third), post, "unrelated")  # tells the owner
    assert Notification.objects.count() == 4
    assert (warm(other_client)[1], warm(auth_client)[1]) == (3, 1)

    response = auth_client.delete(f"/comments/{comment.pk}")

    assert response.status_code == 204
    assert not Comment.objects.filter(pk__in=[comment.pk, reply.pk]).exists()
    assert kinds() == [(other_user.pk, third.pk, "comment", post.pk, kept.pk)]
    shown, count = warm(other_client)
    assert ([n["comment_id"] for n in shown], count) == ([kept.pk], 1)
    assert warm(auth_client) == ([], 0)


def test_deleting_a_post_deletes_its_notifications_but_not_follows(
    user, auth_client, other_user, other_client
):
    post = PostFactory(owner=other_user)
    elsewhere = PostFactory(owner=other_user)
    assert auth_client.post(f"/users/{other_user.pk}/follow").status_code == 201
    assert like(auth_client, post).status_code == 201
    comment_on(auth_client, post)
    assert like(auth_client, elsewhere).status_code == 201
    assert warm(other_client)[1] == 4

    response = other_client.delete(f"/posts/{post.pk}")

    assert response.status_code == 204
    assert not Post.objects.filter(pk=post.pk).exists()
    assert kinds() == sorted(
        [
            (other_user.pk, user.pk, "follow", None, None),
            (other_user.pk, user.pk, "vote", elsewhere.pk, None),
        ]
    )
    shown, count = warm(other_client)
    assert ([n["type"] for n in shown], count) == (["vote", "follow"], 2)
