"""A thread costs the same few queries whatever the page size (authors come with their comments),
and none once the shared read cache holds it; long threads page the same either way."""

import pytest

from core import cache
from moderation import services as moderation

from .helpers import aged_comments, client_of, ids

pytestmark = pytest.mark.django_db

# The caller, the post, the count and the page (with their authors); with the cache on, the
# caller's block set instead of the count.
THREAD_QUERIES = 4
# A thread longer than the cache keeps is read to be kept, then paged in the database.
LONG_THREAD_QUERIES = THREAD_QUERIES + 2


@pytest.fixture
def long_thread(post):
    """60 comments on `post`, each by a different member."""
    comments = aged_comments(60, post=post)
    assert len({c.author_id for c in comments}) == 60
    return comments


@pytest.mark.usefixtures("api_cache")
@pytest.mark.parametrize("limit", [5, 50, 100])
def test_a_page_of_the_thread_costs_the_same_queries_whatever_its_size(
    auth_client, post, long_thread, limit, django_assert_max_num_queries
):
    with django_assert_max_num_queries(THREAD_QUERIES):
        response = auth_client.get(f"/posts/{post.pk}/comments?limit={limit}&skip=3")

    assert ids(response) == [c.pk for c in long_thread[3 : 3 + limit]]
    assert len({item["author"]["id"] for item in response.json()}) == min(limit, 57)


@pytest.fixture
def cached(settings):
    settings.API_CACHE = True
    cache.memory.clear()
    yield
    cache.memory.clear()


@pytest.mark.usefixtures("cached")
@pytest.mark.parametrize("limit", [5, 50])
def test_a_cached_thread_costs_no_query(
    auth_client, post, long_thread, limit, django_assert_num_queries
):
    auth_client.get(f"/posts/{post.pk}/comments")  # the first read keeps it

    with django_assert_num_queries(0):
        response = auth_client.get(f"/posts/{post.pk}/comments?limit={limit}")

    assert ids(response) == [c.pk for c in long_thread[:limit]]


@pytest.mark.usefixtures("api_cache")
def test_a_thread_of_hundreds_pages_in_order_with_no_gap_or_duplicate(
    auth_client, post, staff_user, django_assert_max_num_queries
):
    thread = aged_comments(205, post=post)
    moderation.comment_hide(comment=thread[50], moderator=staff_user)
    expected = [c.pk for c in thread if c.pk != thread[50].pk]

    seen = []
    for skip in (0, 100, 200):
        with django_assert_max_num_queries(LONG_THREAD_QUERIES):
            response = auth_client.get(f"/posts/{post.pk}/comments?limit=100&skip={skip}")
        assert response["X-Total-Count"] == "204"
        seen += ids(response)

    assert seen == expected
    assert ids(auth_client.get(f"/posts/{post.pk}/comments?limit=3&skip=201")) == expected[201:]
    # The post's owner also sees the hidden one, in its place.
    owner = client_of(post.owner)
    deep = owner.get(f"/posts/{post.pk}/comments?limit=10&skip=198")
    assert deep["X-Total-Count"] == "205"
    assert ids(deep) == [c.pk for c in thread[198:]]
