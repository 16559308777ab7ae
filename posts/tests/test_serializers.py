"""post_out(), which renders PostOut on the hot paths, gives PostOutSerializer's bytes exactly."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from accounts.tests.factories import UserFactory
from posts.entries import entry_rows
from posts.models import Post
from posts.serializers import PostOutSerializer, post_entry, post_out

from .factories import PostFactory, VoteFactory

pytestmark = pytest.mark.django_db


def by_serializer(post: Post, *, voted: bool) -> bytes:
    post.voted = voted
    return JSONRenderer().render(PostOutSerializer(post).data)


def by_post_out(post: Post, *, voted: bool) -> bytes:
    row = entry_rows(Post.objects.filter(pk=post.pk)).get()
    return JSONRenderer().render(post_out(post_entry(row), voted=voted))


@pytest.fixture
def posts():
    owner = UserFactory(email="Ann.Ö@example.com")
    whole_second = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds to print
    made = [
        PostFactory(owner=owner, title='Quotes " and \\ and ünïcödé 🎉', content="line\nbreak"),
        PostFactory(owner=owner, published=False, created_at=whole_second),
        PostFactory(owner=owner, hidden_at=timezone.now(), hidden_reason="spam"),
        PostFactory(owner=owner, published=False, hidden_at=timezone.now()),
    ]
    VoteFactory.create_batch(3, post=made[0])
    return [Post.objects.select_related("owner").get(pk=post.pk) for post in made]


@pytest.mark.parametrize("voted", [True, False])
def test_post_out_renders_the_same_bytes_as_the_serializer(posts, voted):
    for post in posts:
        assert by_post_out(post, voted=voted) == by_serializer(post, voted=voted), post.title


def test_a_response_carries_exactly_those_bytes(auth_client, user, posts):
    mine = PostFactory(owner=user, title="mine")
    VoteFactory(user=user, post=mine)
    mine = Post.objects.select_related("owner").get(pk=mine.pk)

    response = auth_client.get(f"/posts/{mine.pk}")

    assert response.content == by_serializer(mine, voted=True)
