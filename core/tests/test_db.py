"""Query helpers (core.db) give what Python would, on SQLite and on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef

from core.db import CompiledValues, EpochMicroseconds
from posts.models import Post, Vote
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db

MOMENTS = [
    datetime(2026, 12, 2, 12, 30, 45, 123456, tzinfo=UTC),
    datetime(2026, 12, 2, 12, 30, 45, tzinfo=UTC),  # no microseconds: SQLite stores no fraction
    datetime(2026, 12, 2, 12, 30, 45, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2030, 1, 1, tzinfo=UTC) - timedelta(microseconds=1),
]


def test_epoch_microseconds_counts_every_microsecond_since_1970():
    posts = [PostFactory(created_at=moment) for moment in MOMENTS]
    expected = {
        post.pk: (post.created_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        for post in posts
    }

    keys = Post.objects.annotate(key=EpochMicroseconds("created_at")).values_list("id", "key")

    assert dict(keys) == expected
    assert dict(CompiledValues(lambda: keys, tuples=True)()) == expected


def test_a_compiled_query_gives_what_the_queryset_gives_for_any_values():
    posts = PostFactory.create_batch(4)
    voter = posts[0].owner
    Vote.objects.create(user=voter, post=posts[1])

    def build(ids, user_id):
        liked = Exists(Vote.objects.filter(post=OuterRef("pk"), user_id=user_id))
        return Post.objects.filter(pk__in=ids).annotate(liked=liked).values("id", "title", "liked")

    compiled = CompiledValues(build)
    for ids in ([posts[1].pk], [posts[0].pk, posts[1].pk], [posts[3].pk, 999_999, posts[1].pk]):
        for user_id in (voter.pk, posts[2].owner_id):
            assert compiled(ids, user_id) == list(build(ids, user_id)), (ids, user_id)
    assert compiled([], voter.pk) == []
    assert len(compiled.compiled) == (3 if connection.vendor == "postgresql" else 0)
