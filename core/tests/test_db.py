"""Query helpers (core.db) give what Python would, on SQLite and on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest

from core.db import EpochMicroseconds, plain_rows
from posts.models import Post
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
    assert dict(plain_rows(keys)) == expected
