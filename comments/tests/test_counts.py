"""`PostOut.comments`: the post's comments that no moderator hid, exact after every write that can
change it, wherever the post is read (`GET /posts/{id}`, `GET /posts/`, `GET /feed`).

Each test reads the post before the write, so an entry cached then is what a stale read would
serve, and reads it twice after: the first read must not be the stale one, the second not a
wrongly cached one.
"""

import pytest
from django.db.models import Count, Q

from accounts.tests.factories import UserFactory
from comments.models import Comment
from comments.services import comment_counts_rebuild
from moderation import services as moderation
from posts.models import Post
from posts.tests.factories import PostFactory

from .factories import CommentFactory
from .helpers import client_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("api_cache")]


def shown(client, post) -> dict[str, int]:
    """`comments` of `post` in each place its owner (`client`) reads it."""
    detail = client.get(f"/posts/{post.pk}")
    listed = client.get("/posts/?limit=100")
    feed = client.get("/feed?limit=100")
    for response in (detail, listed, feed):
        assert response.status_code == 200, response.content

    def find(items):
        return next(item["comments"] for item in items if item["Post"]["id"] == post.pk)

    return {
        "detail": detail.json()["comments"],
        "list": find(listed.json()),
        "feed": find(feed.json()),
    }


def rows(post) -> int:
    return Comment.objects.filter(post=post, hidden_at__isnull=True).count()


def assert_comments(client, post, expected: int):
    """The API says `expected` everywhere, twice; so do the kept count and the rows."""
    everywhere = {"detail": expected, "list": expected, "feed": expected}
    assert shown(client, post) == everywhere
    assert shown(client, post) == everywhere
    assert Post.objects.get(pk=post.pk).comment_count == expected
    assert rows(post) == expected


@pytest.fixture
def owner_client(other_client):
    """The post's owner: sees it by id, in the list and in their own feed."""
    return other_client


def comment(client, post, content="Hi", parent=None):
    body = {"content": content}
    if parent is not None:
        body["parent_id"] = parent.pk
    response = client.post(f"/posts/{post.pk}/comments", body, format="json")
    assert response.status_code == 201, response.content
    return Comment.objects.get(pk=response.json()["id"])


def test_a_new_post_has_no_comments(owner_client, post):
    assert_comments(owner_client, post, 0)


def test_each_comment_and_reply_adds_one(auth_client, owner_client, post):
    assert_comments(owner_client, post, 0)

    first = comment(auth_client, post)
    assert_comments(owner_client, post, 1)

    comment(owner_client, post, parent=first)
    assert_comments(owner_client, post, 2)

    other_post = PostFactory(owner=post.owner)
    comment(auth_client, other_post)
    assert_comments(owner_client, post, 2)
    assert_comments(owner_client, other_post, 1)


def test_a_refused_comment_adds_nothing(auth_client, owner_client, post):
    CommentFactory(post=post)
    assert_comments(owner_client, post, 1)

    for body in ({"content": ""}, {"content": "x", "parent_id": 987654}):
        assert (
            auth_client.post(f"/posts/{post.pk}/comments", body, format="json").status_code == 422
        )

    assert_comments(owner_client, post, 1)


def test_an_edit_changes_nothing(user, auth_client, owner_client, post):
    mine = CommentFactory(post=post, author=user)
    CommentFactory(post=post)
    assert_comments(owner_client, post, 2)

    response = auth_client.patch(f"/comments/{mine.pk}", {"content": "Better"}, format="json")

    assert response.status_code == 200
    assert_comments(owner_client, post, 2)


@pytest.mark.parametrize("deleter", ["author", "post owner", "staff"])
def test_a_deletion_takes_one_off(user, auth_client, owner_client, staff_client, post, deleter):
    mine = CommentFactory(post=post, author=user)
    CommentFactory(post=post)
    assert_comments(owner_client, post, 2)
    client = {"author": auth_client, "post owner": owner_client, "staff": staff_client}[deleter]

    assert client.delete(f"/comments/{mine.pk}").status_code == 204

    assert_comments(owner_client, post, 1)


def test_deleting_a_comment_takes_off_its_replies_too(user, auth_client, owner_client, post):
    mine = CommentFactory(post=post, author=user)
    reply = CommentFactory.reply_to(mine)
    CommentFactory.reply_to(reply)
    CommentFactory.reply_to(mine)
    CommentFactory(post=post)
    assert_comments(owner_client, post, 5)

    assert auth_client.delete(f"/comments/{mine.pk}").status_code == 204

    assert_comments(owner_client, post, 1)


def test_hiding_takes_one_off_and_unhiding_puts_it_back(owner_client, staff_user, post):
    target = CommentFactory(post=post)
    CommentFactory(post=post)
    assert_comments(owner_client, post, 2)

    moderation.comment_hide(comment=target, moderator=staff_user, reason="spam")
    assert_comments(owner_client, post, 1)

    moderation.comment_hide(comment=target, moderator=staff_user, reason="again")
    assert_comments(owner_client, post, 1)

    moderation.comment_unhide(comment=target, moderator=staff_user)
    assert_comments(owner_client, post, 2)

    moderation.comment_unhide(comment=target, moderator=staff_user)
    assert_comments(owner_client, post, 2)


def test_a_hidden_comment_is_not_counted_though_its_post_owner_still_reads_it(
    owner_client, staff_user, post
):
    target = CommentFactory(post=post)
    CommentFactory(post=post)
    moderation.comment_hide(comment=target, moderator=staff_user)

    assert_comments(owner_client, post, 1)
    assert owner_client.get(f"/posts/{post.pk}/comments")["X-Total-Count"] == "2"


def test_deleting_a_hidden_comment_does_not_take_it_off_twice(
    user, auth_client, owner_client, staff_user, post
):
    mine = CommentFactory(post=post, author=user)
    CommentFactory(post=post)
    moderation.comment_hide(comment=mine, moderator=staff_user)
    assert_comments(owner_client, post, 1)

    assert auth_client.delete(f"/comments/{mine.pk}").status_code == 204

    assert_comments(owner_client, post, 1)


def test_deleting_a_comment_with_a_hidden_reply_takes_off_only_what_was_counted(
    user, auth_client, owner_client, staff_user, post
):
    mine = CommentFactory(post=post, author=user)
    hidden_reply = CommentFactory.reply_to(mine)
    CommentFactory.reply_to(mine)
    CommentFactory(post=post)
    moderation.comment_hide(comment=hidden_reply, moderator=staff_user)
    assert_comments(owner_client, post, 3)

    assert auth_client.delete(f"/comments/{mine.pk}").status_code == 204

    assert_comments(owner_client, post, 1)
    assert Comment.objects.filter(post=post).count() == 1


def test_deleting_a_hidden_comment_with_shown_replies_takes_off_the_replies(
    user, auth_client, owner_client, staff_user, post
):
    mine = CommentFactory(post=post, author=user)
    CommentFactory.reply_to(mine)
    CommentFactory.reply_to(mine)
    moderation.comment_hide(comment=mine, moderator=staff_user)
    assert_comments(owner_client, post, 2)

    assert auth_client.delete(f"/comments/{mine.pk}").status_code == 204

    assert_comments(owner_client, post, 0)


def test_deleting_a_member_fixes_the_counts_of_every_post_they_commented_on(owner_client, post):
    member = UserFactory()
    second_post = PostFactory(owner=post.owner)
    theirs = CommentFactory(post=post, author=member)
    CommentFactory.reply_to(theirs)  # someone else's reply goes with the comment it answers
    CommentFactory(post=post)
    CommentFactory(post=second_post, author=member)
    CommentFactory(post=second_post, author=member)
    CommentFactory(post=second_post)
    assert_comments(owner_client, post, 3)
    assert_comments(owner_client, second_post, 3)

    member.delete()

    assert_comments(owner_client, post, 1)
    assert_comments(owner_client, second_post, 1)


def test_deleting_a_member_with_a_hidden_comment_takes_it_off_once(owner_client, staff_user, post):
    member = UserFactory()
    hidden = CommentFactory(post=post, author=member)
    CommentFactory(post=post, author=member)
    CommentFactory(post=post)
    moderation.comment_hide(comment=hidden, moderator=staff_user)
    assert_comments(owner_client, post, 2)

    member.delete()

    assert_comments(owner_client, post, 1)


def test_deleting_comments_in_bulk_through_the_orm_keeps_the_counts(owner_client, post):
    keep = CommentFactory(post=post)
    for _ in range(3):
        CommentFactory.reply_to(CommentFactory(post=post))
    assert_comments(owner_client, post, 7)

    Comment.objects.filter(post=post).exclude(pk=keep.pk).delete()

    assert_comments(owner_client, post, 1)


def test_deleting_the_post_takes_its_comments_and_leaves_others_counts(owner_client, post, user):
    other_post = PostFactory(owner=post.owner)
    CommentFactory.reply_to(CommentFactory(post=post))
    CommentFactory(post=other_post, author=user)
    assert_comments(owner_client, other_post, 1)

    assert owner_client.delete(f"/posts/{post.pk}").status_code == 204

    assert not Comment.objects.filter(post_id=post.pk).exists()
    assert_comments(owner_client, other_post, 1)


def test_the_rebuild_counts_the_rows_again_where_the_count_is_wrong(owner_client, staff_user, post):
    CommentFactory.create_batch(3, post=post)
    hidden = CommentFactory(post=post)
    moderation.comment_hide(comment=hidden, moderator=staff_user)
    empty = PostFactory(owner=post.owner)
    shown(owner_client, post)
    Post.objects.filter(pk=post.pk).update(comment_count=99)  # a bulk write that no model saw
    Post.objects.filter(pk=empty.pk).update(comment_count=5)

    comment_counts_rebuild()

    assert_comments(owner_client, post, 3)
    assert_comments(owner_client, empty, 0)
    counted = Post.objects.annotate(
        n=Count("comments", filter=Q(comments__hidden_at__isnull=True))
    ).values_list("comment_count", "n")
    assert all(kept == actual for kept, actual in counted)


def test_every_member_reads_the_same_count(auth_client, owner_client, post):
    """The count is the post's, not the caller's: a bystander and the owner read the same."""
    comment(auth_client, post)
    bystander = client_of(UserFactory())

    detail = bystander.get(f"/posts/{post.pk}").json()["comments"]
    listed = next(
        item["comments"]
        for item in bystander.get("/posts/?limit=100").json()
        if item["Post"]["id"] == post.pk
    )

    assert (detail, listed) == (1, 1)
    assert_comments(owner_client, post, 1)
