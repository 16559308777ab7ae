"""The data rules of posts and votes, checked against the database itself."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from posts.models import Post, Vote

from .factories import PostFactory, VoteFactory

pytestmark = pytest.mark.django_db


def vote_counts() -> dict[int, int]:
    """Each post's kept vote count, checked against its rows."""
    kept = dict(Post.objects.values_list("id", "vote_count"))
    counted = {post.pk: post.votes.count() for post in Post.objects.all()}
    assert kept == counted
    return kept


def test_second_vote_for_same_user_and_post_is_rejected_by_the_database():
    vote = VoteFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        # bulk_create skips model validation: only the database constraint stands in the way.
        Vote.objects.bulk_create([Vote(user=vote.user, post=vote.post)])
    assert Vote.objects.filter(user=vote.user, post=vote.post).count() == 1


def test_same_user_may_vote_on_two_posts_and_two_users_on_one_post():
    user = UserFactory()
    first, second = PostFactory.create_batch(2)
    VoteFactory(user=user, post=first)
    VoteFactory(user=user, post=second)
    VoteFactory(post=first)
    assert Vote.objects.count() == 3


def test_deleting_a_user_deletes_their_posts_and_votes():
    author, voter = UserFactory.create_batch(2)
    their_post = PostFactory(owner=author)
    other_post = PostFactory(owner=voter)
    VoteFactory(user=voter, post=their_post)  # goes with the post
    VoteFactory(user=author, post=other_post)  # goes with the user
    VoteFactory(user=voter, post=other_post)  # stays

    author.delete()

    assert not Post.objects.filter(owner_id=author.pk).exists()
    assert not Vote.objects.filter(user_id=author.pk).exists()
    assert not Vote.objects.filter(post_id=their_post.pk).exists()
    assert list(Post.objects.values_list("id", flat=True)) == [other_post.pk]
    assert vote_counts() == {other_post.pk: 1}


def test_deleting_a_post_deletes_its_votes_only():
    doomed, kept = PostFactory.create_batch(2)
    VoteFactory.create_batch(3, post=doomed)
    VoteFactory.create_batch(2, post=kept)

    doomed.delete()

    assert not Vote.objects.filter(post_id=doomed.pk).exists()
    assert Vote.objects.filter(post=kept).count() == 2
    assert vote_counts() == {kept.pk: 2}


def test_vote_counts_are_per_post_and_zero_without_votes():
    popular, quiet = PostFactory.create_batch(2)
    VoteFactory.create_batch(4, post=popular)
    assert vote_counts() == {popular.pk: 4, quiet.pk: 0}


def test_vote_counts_follow_deleted_voters():
    post = PostFactory()
    votes = VoteFactory.create_batch(3, post=post)
    votes[0].user.delete()
    assert vote_counts() == {post.pk: 2}


def test_owner_sees_own_drafts_but_not_other_users_drafts():
    owner, stranger = UserFactory.create_batch(2)
    published = PostFactory(owner=owner)
    own_draft = PostFactory(owner=owner, published=False)
    others_draft = PostFactory(owner=stranger, published=False)
    others_published = PostFactory(owner=stranger)

    assert set(Post.objects.visible_to(owner)) == {published, own_draft, others_published}
    assert set(Post.objects.visible_to(stranger)) == {published, others_draft, others_published}
    assert others_draft not in Post.objects.visible_to(owner)


def test_anonymous_user_sees_only_published_posts():
    published = PostFactory()
    PostFactory(published=False)
    assert list(Post.objects.visible_to(AnonymousUser())) == [published]


def test_search_is_case_insensitive_substring_of_the_title():
    match = PostFactory(title="Learning FastAPI the hard way")
    PostFactory(title="Django notes", content="fastapi appears only in the content")
    assert list(Post.objects.search("fastapi")) == [match]
    assert list(Post.objects.search("RNING fa")) == [match]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("100%", {"100% sure"}),
        ("%", {"100% sure"}),
        ("a_b", {"a_b test"}),
        ("_", {"a_b test"}),
        ("\\", {"back\\slash"}),
    ],
)
def test_search_treats_like_wildcards_literally(term, expected):
    for title in ["100% sure", "1000 sure", "a_b test", "axb test", "back\\slash"]:
        PostFactory(title=title)
    assert {post.title for post in Post.objects.search(term)} == expected


def test_empty_search_matches_everything():
    PostFactory.create_batch(3)
    assert Post.objects.search("").count() == 3


def test_newest_first_orders_by_created_at_then_id():
    now = timezone.now()
    old = PostFactory(created_at=now - timedelta(days=1))
    tie_low, tie_high = PostFactory.create_batch(2, created_at=now)
    assert list(Post.objects.newest_first()) == [tie_high, tie_low, old]


def test_str_is_readable():
    vote = VoteFactory(post__title="Hello")
    assert str(vote.post) == "Hello"
    assert str(vote) == f"{vote.user_id} likes {vote.post_id}"
