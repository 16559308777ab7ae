"""The signal handlers themselves, past the API: they check blocks on their own, and a
notification is written in its action's transaction, so neither exists without the other."""

import pytest
from django.db import DatabaseError

from accounts.tests.factories import BlockFactory, UserFactory
from comments import services as comment_services
from comments.models import Comment
from comments.tests.factories import CommentFactory
from notifications.models import Notification, NotificationQuerySet
from posts import services as post_services
from posts.models import Post, Vote
from posts.tests.factories import PostFactory, VoteFactory
from social import services as social_services
from social.models import Follow
from social.tests.factories import FollowFactory

pytestmark = pytest.mark.django_db


def kinds() -> list[tuple]:
    """Every notification in the database, as (recipient, actor, type, post, comment)."""
    return sorted(
        Notification.objects.values_list(
            "recipient_id", "actor_id", "type", "post_id", "comment_id"
        )
    )


# --- never across a block ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "blocker", ["recipient", "actor", None], ids=["by-recipient", "by-actor", "no-block"]
)
@pytest.mark.parametrize(
    ("act", "kind"),
    [
        (lambda actor, owner: FollowFactory(follower=actor, followee=owner), "follow"),
        (lambda actor, owner: VoteFactory(user=actor, post=PostFactory(owner=owner)), "vote"),
        (
            lambda actor, owner: CommentFactory(author=actor, post=PostFactory(owner=owner)),
            "comment",
        ),
        (
            lambda actor, owner: CommentFactory.reply_to(
                CommentFactory(author=owner, post=PostFactory()), author=actor
            ),
            "reply",
        ),
    ],
    ids=["follow", "vote", "comment", "reply"],
)
def test_no_notification_across_a_block_even_past_the_api(blocker, act, kind):
    # Written past the API (which refuses these): the notification itself checks the block.
    owner, actor = UserFactory(), UserFactory()
    if blocker == "recipient":
        BlockFactory(blocker=owner, blocked=actor)
    elif blocker == "actor":
        BlockFactory(blocker=actor, blocked=owner)

    act(actor, owner)

    told = list(Notification.objects.filter(recipient=owner, actor=actor).values_list("type"))
    assert told == ([] if blocker else [(kind,)])
    assert not Notification.objects.filter(recipient=actor).exists()


# --- atomic with the action --------------------------------------------------------------------


@pytest.fixture
def notification_insert_fails(monkeypatch):
    def refuse(self, **kwargs):
        raise DatabaseError("notification insert failed")

    monkeypatch.setattr(NotificationQuerySet, "create", refuse)


def test_a_like_whose_notification_fails_is_not_kept(user, other_user, notification_insert_fails):
    post = PostFactory(owner=other_user)

    with pytest.raises(DatabaseError, match="notification insert failed"):
        post_services.vote_create(user=user, post_id=post.pk)

    assert not Vote.objects.exists()
    assert Post.objects.get(pk=post.pk).vote_count == 0
    assert not Notification.objects.exists()


def test_a_follow_whose_notification_fails_is_not_kept(user, other_user, notification_insert_fails):
    with pytest.raises(DatabaseError, match="notification insert failed"):
        social_services.follow_create(follower=user, followee_id=other_user.pk)

    assert not Follow.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("reply", [False, True], ids=["comment", "reply"])
def test_a_comment_whose_notification_fails_is_not_kept(user, other_user, monkeypatch, reply):
    post = PostFactory(owner=other_user)
    parent = CommentFactory(post=post, author=UserFactory()) if reply else None
    before = set(Notification.objects.values_list("pk", flat=True))
    count_before = Post.objects.get(pk=post.pk).comment_count

    def refuse(self, **kwargs):
        raise DatabaseError("notification insert failed")

    monkeypatch.setattr(NotificationQuerySet, "create", refuse)
    with pytest.raises(DatabaseError, match="notification insert failed"):
        comment_services.comment_create(
            author=user, post_id=post.pk, content="hello", parent_id=parent and parent.pk
        )

    assert not Comment.objects.filter(author=user).exists()
    assert Post.objects.get(pk=post.pk).comment_count == count_before
    assert set(Notification.objects.values_list("pk", flat=True)) == before


def test_without_the_failure_the_same_calls_keep_both(user, other_user):
    # The counterpart of the three above: the calls themselves work.
    post = PostFactory(owner=other_user)

    post_services.vote_create(user=user, post_id=post.pk)
    social_services.follow_create(follower=user, followee_id=other_user.pk)
    comment = comment_services.comment_create(
        author=user, post_id=post.pk, content="hello", parent_id=None
    )

    assert Post.objects.get(pk=post.pk).vote_count == 1
    assert Post.objects.get(pk=post.pk).comment_count == 1
    assert kinds() == sorted(
        [
            (other_user.pk, user.pk, "follow", None, None),
            (other_user.pk, user.pk, "vote", post.pk, None),
            (other_user.pk, user.pk, "comment", post.pk, comment.pk),
        ]
    )


def test_a_like_or_comment_made_by_post_id_alone_still_tells_the_owner(user):
    """Past the services (the admin, a script), the post is not in hand: the handlers read its
    owner themselves."""
    post = PostFactory()

    Vote.objects.create(user=user, post_id=post.pk)
    comment = Comment.objects.create(author=user, post_id=post.pk, content="Hi")

    assert kinds() == [
        (post.owner_id, user.pk, "comment", post.pk, comment.pk),
        (post.owner_id, user.pk, "vote", post.pk, None),
    ]


def test_a_like_through_the_service_reads_its_post_once(user, django_assert_num_queries):
    post = PostFactory()

    # The post (with the caller's blocks), the insert, the block check between the two, the
    # notification, the count: the owner comes from the post already read.
    with django_assert_num_queries(7):
        post_services.vote_create(user=user, post_id=post.pk)

    assert kinds() == [(post.owner_id, user.pk, "vote", post.pk, None)]
