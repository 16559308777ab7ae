"""GET /feed: the posts of whom the caller follows and their own, by cursor (docs/api.md Part 3)."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import BlockFactory, UserFactory
from conftest import authorize
from core import cache, cache_store
from moderation import services as moderation
from posts.tests.factories import PostFactory, VoteFactory
from social import selectors

from .factories import FollowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["no cache", "redis"])
def _cache(request, settings):
    settings.API_CACHE = request.param != "no cache"
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    cache.memory.clear()


def ids_of(response) -> list[int]:
    return [item["Post"]["id"] for item in response.json()]


def next_url(response) -> str | None:
    link = response.get("Link")
    if link is None:
        return None
    assert link.endswith('>; rel="next"')
    url = urlsplit(link[1 : link.index(">")])
    return f"{url.path}?{url.query}"


def test_the_feed_is_followed_members_and_own_published_posts_newest_first(user, auth_client):
    idol = FollowFactory(follower=user).followee
    now = timezone.now()
    own = PostFactory(owner=user, created_at=now - timedelta(minutes=3))
    theirs = PostFactory(owner=idol, created_at=now - timedelta(minutes=2))
    PostFactory(owner=idol, published=False)  # their draft
    PostFactory(owner=user, published=False)  # own draft: published posts only
    PostFactory()  # someone not followed
    VoteFactory(user=user, post=theirs)

    response = auth_client.get("/feed")

    assert response.status_code == 200
    assert ids_of(response) == [theirs.pk, own.pk]
    first = response.json()[0]
    assert first["Post"]["owner"]["id"] == idol.pk
    assert (first["votes"], first["voted"]) == (1, True)
    assert "X-Total-Count" not in response and "Link" not in response


def test_the_feed_pages_by_cursor_with_no_duplicate_or_gap_when_posts_arrive(user, auth_client):
    idol = FollowFactory(follower=user).followee
    start = timezone.now() - timedelta(hours=1)
    posts = [PostFactory(owner=idol, created_at=start + timedelta(seconds=n)) for n in range(7)]
    tie = PostFactory(owner=idol, created_at=posts[3].created_at)  # same instant, higher id
    expected = [p.pk for p in sorted([*posts, tie], key=lambda p: (p.created_at, p.pk))][::-1]

    seen, url = [], "/feed?limit=3"
    while url:
        response = auth_client.get(url)
        assert response.status_code == 200
        seen += ids_of(response)
        PostFactory(owner=idol)  # a new post between pages shifts nothing
        url = next_url(response)

    assert seen == expected


def test_the_cursor_link_keeps_the_limit_and_is_opaque(user, auth_client):
    idol = FollowFactory(follower=user).followee
    PostFactory.create_batch(3, owner=idol)

    link = next_url(auth_client.get("/feed?limit=2"))

    query = parse_qs(urlsplit(link).query)
    assert query["limit"] == ["2"]
    assert ":" not in query["before"][0] and "." not in query["before"][0]


@pytest.mark.parametrize(
    "before", ["garbage", "", "MTIz", "LTEuMg", "OTk5OTk5OTk5OTk5OTk5OTk5OTkuMQ"]
)
def test_a_bad_cursor_is_a_422_about_the_query(auth_client, before):
    response = auth_client.get("/feed", {"before": before})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "before"]


@pytest.mark.parametrize("limit", ["-1", "x"])
def test_a_bad_limit_is_a_422(auth_client, limit):
    response = auth_client.get("/feed", {"limit": limit})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_limit_defaults_to_twenty_caps_at_a_hundred_and_zero_gives_nothing(user, auth_client):
    PostFactory.create_batch(105, owner=user)

    assert len(auth_client.get("/feed").json()) == 20
    assert len(auth_client.get("/feed?limit=500").json()) == 100
    empty = auth_client.get("/feed?limit=0")
    assert empty.json() == [] and "Link" not in empty


def test_hidden_posts_and_blocked_members_stay_out_of_the_feed(user, auth_client):
    idol, other = UserFactory(), UserFactory()
    FollowFactory(follower=user, followee=idol)
    FollowFactory(follower=user, followee=other)
    hidden = PostFactory(owner=idol)
    moderation.post_hide(post=hidden, moderator=UserFactory(is_staff=True))
    shown = PostFactory(owner=idol)
    PostFactory(owner=other)
    BlockFactory(blocker=other, blocked=user)  # (made outside the API: follows stay)

    assert ids_of(auth_client.get("/feed")) == [shown.pk]


def test_unfollowing_takes_their_posts_out_at_once(user, auth_client):
    idol = UserFactory()
    auth_client.post(f"/users/{idol.pk}/follow")
    post = PostFactory(owner=idol)
    assert ids_of(auth_client.get("/feed")) == [post.pk]

    auth_client.delete(f"/users/{idol.pk}/follow")

    assert auth_client.get("/feed").json() == []


def test_the_feed_needs_a_token(db):
    response = APIClient().get("/feed")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("limit", [1, 100])
def test_a_feed_page_costs_three_queries_whatever_its_size(
    user, limit, django_assert_max_num_queries
):
    for _ in range(3):
        PostFactory.create_batch(40, owner=FollowFactory(follower=user).followee)
    client = authorize(APIClient(), user)

    with django_assert_max_num_queries(3):
        response = client.get(f"/feed?limit={limit}")

    assert len(response.json()) == limit


def test_a_cached_feed_page_follows_every_write_that_changes_it(user, auth_client):
    idol = UserFactory()
    idol_client = authorize(APIClient(), idol)
    auth_client.post(f"/users/{idol.pk}/follow")
    first = PostFactory(owner=idol)
    assert ids_of(auth_client.get("/feed?limit=5")) == [first.pk]  # now cached, if caching

    second = idol_client.post("/posts/", {"title": "New", "content": "x"}, format="json").json()
    assert ids_of(auth_client.get("/feed?limit=5")) == [second["id"], first.pk]

    idol_client.put(f"/posts/{first.pk}", {"title": "Edited", "content": "x"}, format="json")
    assert auth_client.get("/feed?limit=5").json()[1]["Post"]["title"] == "Edited"

    moderation.post_hide(post=first, moderator=UserFactory(is_staff=True))
    assert ids_of(auth_client.get("/feed?limit=5")) == [second["id"]]

    idol_client.put(
        f"/posts/{second['id']}",
        {"title": "Draft", "content": "x", "published": False},
        format="json",
    )
    assert auth_client.get("/feed?limit=5").json() == []

    own = auth_client.post("/posts/", {"title": "Mine", "content": "x"}, format="json").json()
    assert ids_of(auth_client.get("/feed?limit=5")) == [own["id"]]

    auth_client.delete(f"/posts/{own['id']}")
    assert auth_client.get("/feed?limit=5").json() == []


def test_a_block_either_way_empties_a_cached_feed_at_once(user, auth_client):
    idol = UserFactory()
    auth_client.post(f"/users/{idol.pk}/follow")
    post = PostFactory(owner=idol)
    assert ids_of(auth_client.get("/feed")) == [post.pk]

    authorize(APIClient(), idol).post(f"/users/{user.pk}/block")

    assert auth_client.get("/feed").json() == []


def test_a_post_retires_the_cached_feeds_of_all_its_owners_followers(auth_client, user):
    idol = UserFactory()
    fan = UserFactory()
    fan_client = authorize(APIClient(), fan)
    for member in (user, fan):
        FollowFactory(follower=member, followee=idol)
    for client in (auth_client, fan_client):
        assert client.get("/feed").json() == []

    post = PostFactory(owner=idol)

    for client in (auth_client, fan_client):
        assert ids_of(client.get("/feed")) == [post.pk]


def test_past_the_fan_out_limit_a_post_retires_every_cached_feed(auth_client, user, monkeypatch):
    monkeypatch.setattr(selectors, "FEED_FANOUT_MAX", 1)
    idol = UserFactory()
    FollowFactory(follower=user, followee=idol)
    FollowFactory(followee=idol)
    assert auth_client.get("/feed").json() == []

    post = PostFactory(owner=idol)

    assert selectors.feeds_showing({idol.pk}, using="default") == [selectors.ALL_FEEDS]
    assert ids_of(auth_client.get("/feed")) == [post.pk]


def test_a_cached_first_page_costs_no_query(user, settings, django_assert_num_queries):
    PostFactory.create_batch(3, owner=FollowFactory(follower=user).followee)
    client = authorize(APIClient(), user)
    client.get("/feed?limit=2")

    with django_assert_num_queries(0 if settings.API_CACHE else 3):
        response = client.get("/feed?limit=2")

    assert len(response.json()) == 2 and "Link" in response


def test_a_first_page_read_again_takes_one_round_trip_and_stays_exact(
    request, user, auth_client, monkeypatch
):
    if request.node.callspec.params["_cache"] != "redis":
        pytest.skip("round trips to Redis")
    idol = FollowFactory(follower=user).followee
    older = PostFactory(owner=idol)
    auth_client.get("/feed")  # cached, and kept in this process's memory
    round_trips = []
    batch = cache_store._RedisStore.batch
    monkeypatch.setattr(
        cache_store._RedisStore, "batch", lambda *args: round_trips.append(1) or batch(*args)
    )

    assert ids_of(auth_client.get("/feed")) == [older.pk]
    assert len(round_trips) == 1  # the caller, the page and its posts at once

    newer = PostFactory(owner=idol)  # what this process kept is stale now: a plan only
    assert ids_of(auth_client.get("/feed")) == [newer.pk, older.pk]
