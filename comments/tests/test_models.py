"""What the database itself keeps true of comments, whatever writes them: content length, a reply's
parent on the same post (PostgreSQL), and what goes when a comment, a post or a member goes."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from accounts.tests.factories import UserFactory
from comments.models import CONTENT_MAX, Comment
from moderation import services as moderation
from posts.tests.factories import PostFactory

from .factories import CommentFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the (post_id, parent_id) foreign key is added on PostgreSQL only (migration 0002)",
)


def remaining() -> set[int]:
    return set(Comment.objects.values_list("pk", flat=True))


# --- content -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "x" * (CONTENT_MAX + 1)], ids=["empty", "2001-chars"])
def test_the_database_refuses_content_of_the_wrong_length(content):
    post = PostFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(post=post, author=UserFactory(), content=content)

    assert not Comment.objects.exists()
    post.refresh_from_db()
    assert post.comment_count == 0


def test_the_database_refuses_emptying_a_stored_comment():
    comment = CommentFactory(content="Something")

    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=comment.pk).update(content="")

    assert Comment.objects.get(pk=comment.pk).content == "Something"


@pytest.mark.parametrize("content", ["x" * CONTENT_MAX, "😀" * CONTENT_MAX], ids=["ascii", "emoji"])
def test_the_database_counts_characters_not_bytes(content):
    comment = Comment.objects.create(post=PostFactory(), author=UserFactory(), content=content)

    assert Comment.objects.get(pk=comment.pk).content == content


def test_a_comment_cannot_be_its_own_parent():
    comment = CommentFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(pk=comment.pk).update(parent_id=F("pk"))

    assert Comment.objects.get(pk=comment.pk).parent_id is None


# --- a reply's parent is on the same post -------------------------------------------------------


def test_a_reply_to_a_reply_stays_on_the_post():
    post = PostFactory()
    first = CommentFactory(post=post)
    second = CommentFactory.reply_to(first)
    third = CommentFactory.reply_to(second)

    stored = Comment.objects.get(pk=third.pk)
    assert (stored.parent_id, stored.parent.parent_id) == (second.pk, first.pk)
    assert {c.post_id for c in (first, second, third)} == {post.pk}
    assert list(first.replies.all()) == [second]


@postgresql_only
def test_the_database_refuses_a_reply_whose_parent_is_on_another_post():
    parent = CommentFactory()
    other_post = PostFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        # The foreign key is DEFERRABLE INITIALLY DEFERRED: check it now, not at commit.
        connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
        Comment.objects.create(post=other_post, parent=parent, author=UserFactory(), content="x")

    assert not Comment.objects.filter(post=other_post).exists()
    assert remaining() == {parent.pk}


@postgresql_only
def test_the_database_refuses_moving_a_reply_away_from_its_parents_post():
    parent = CommentFactory()
    reply = CommentFactory.reply_to(parent)
    other_post = PostFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
        Comment.objects.filter(pk=reply.pk).update(post=other_post)

    assert Comment.objects.get(pk=reply.pk).post_id == parent.post_id


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_reply_on_another_post_than_its_parent_fails_at_commit():
    parent = CommentFactory()
    other_post = PostFactory()
    author = UserFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.create(post=other_post, parent=parent, author=author, content="x")

    assert remaining() == {parent.pk}
    other_post.refresh_from_db()
    assert other_post.comment_count == 0  # rolled back with the row


# --- what goes with what -----------------------------------------------------------------------


def test_deleting_a_comment_deletes_its_replies_and_their_replies():
    post = PostFactory()
    comment = CommentFactory(post=post)
    reply = CommentFactory.reply_to(comment)
    CommentFactory.reply_to(reply)
    CommentFactory.reply_to(comment)
    sibling = CommentFactory(post=post)
    sibling_reply = CommentFactory.reply_to(sibling)

    comment.delete()

    assert remaining() == {sibling.pk, sibling_reply.pk}


def test_deleting_a_post_deletes_its_comments_and_no_others():
    post = PostFactory()
    parent = CommentFactory(post=post)
    CommentFactory.reply_to(parent)
    CommentFactory(post=post)
    elsewhere = CommentFactory()

    post.delete()

    assert remaining() == {elsewhere.pk}


def test_deleting_a_member_deletes_their_comments_and_the_replies_to_them():
    member = UserFactory()
    post = PostFactory()
    theirs = CommentFactory(post=post, author=member)
    reply_to_theirs = CommentFactory.reply_to(theirs)
    CommentFactory.reply_to(reply_to_theirs)
    others = CommentFactory(post=post)
    their_reply = CommentFactory.reply_to(others, author=member)

    member.delete()

    assert remaining() == {others.pk}
    assert not Comment.objects.filter(pk=their_reply.pk).exists()


def test_deleting_a_member_deletes_the_comments_on_their_posts():
    member = UserFactory()
    their_post = PostFactory(owner=member)
    CommentFactory(post=their_post)
    elsewhere = CommentFactory()

    member.delete()

    assert remaining() == {elsewhere.pk}


def test_a_hidden_comment_stays_hidden_when_its_moderator_leaves():
    moderator = UserFactory(is_staff=True)
    comment = CommentFactory()
    moderation.comment_hide(comment=comment, moderator=moderator, reason="spam")

    moderator.delete()

    stored = Comment.objects.get(pk=comment.pk)
    assert stored.hidden_at is not None
    assert (stored.hidden_by_id, stored.hidden_reason) == (None, "spam")
