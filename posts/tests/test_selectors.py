"""The cached read path (posts.selectors): shared where views are the same, exact after writes."""

import random

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import authorize
from core import cache
from moderation import services as moderation
from posts import selectors
from posts.models import Vote

from .factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["local memory", "redis"])
def _cache_on(request, settings):
    """Every test with each store: Django's local-memory cache, and Redis as in production."""
    settings.API_CACHE = True
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    cache.memory.clear()


def member():
    user = UserFactory()
    return user, authorize(APIClient(), user)


def ids_of(response) -> list[int]:
    return [item["Post"]["id"] for item in response.json()]


def pages_cached_per_member() -> set[str]:
    return {key for key in cache.memory.entries if key.startswith("posts:ids:")}


def test_members_who_see_the_same_posts_share_one_cached_list():
    posts = PostFactory.create_batch(3)
    readers = [member() for _ in range(4)]

    pages = [client.get("/posts/") for _, client in readers]

    assert all(ids_of(page) == [post.pk for post in reversed(posts)] for page in pages)
    assert all(page["X-Total-Count"] == "3" for page in pages)
    assert cache.kept(selectors.NEWEST_KEY)["keys"][0][1] == posts[-1].pk
    assert pages_cached_per_member() == set()


def test_a_member_with_drafts_gets_them_merged_into_the_shared_list(user, auth_client):
    older, newer = PostFactory.create_batch(2)
    draft = PostFactory(owner=user, published=False)
    between = PostFactory(owner=user, published=False, created_at=older.created_at)  # a tie
    _, other = member()

    mine = auth_client.get("/posts/")
    theirs = other.get("/posts/")
    second = auth_client.get("/posts/?limit=2&skip=2")

    assert ids_of(mine) == [draft.pk, newer.pk, between.pk, older.pk]
    assert mine["X-Total-Count"] == "4"
    assert (ids_of(theirs), theirs["X-Total-Count"]) == ([newer.pk, older.pk], "2")
    assert ids_of(second) == [between.pk, older.pk]
    assert [key for _, key in cache.kept(selectors.own_key(user.pk))["private"]] == [
        draft.pk,
        between.pk,
    ]
    assert pages_cached_per_member() == set()


def test_a_member_with_more_drafts_than_kept_gets_pages_of_their_own(
    user, auth_client, monkeypatch
):
    monkeypatch.setattr(selectors, "OWN_KEPT", 1)
    public = PostFactory()
    drafts = PostFactory.create_batch(2, owner=user, published=False)

    page = auth_client.get("/posts/")

    assert ids_of(page) == [drafts[1].pk, drafts[0].pk, public.pk]
    assert page["X-Total-Count"] == "3"
    assert len(pages_cached_per_member()) == 1


def test_a_page_deeper_than_the_shared_list_comes_from_the_database(auth_client, monkeypatch):
    monkeypatch.setattr(selectors, "NEWEST_KEPT", 3)
    posts = PostFactory.create_batch(5)

    page = auth_client.get("/posts/?limit=2&skip=2")

    assert ids_of(page) == [posts[2].pk, posts[1].pk]
    assert page["X-Total-Count"] == "5"
    assert len(pages_cached_per_member()) == 1


def test_publishing_the_last_draft_brings_a_member_back_to_the_shared_page(user, auth_client):
    draft = auth_client.post("/posts/", {"title": "d", "content": "c", "published": False}).json()
    assert ids_of(auth_client.get("/posts/")) == [draft["id"]]
    _, other = member()
    assert ids_of(other.get("/posts/")) == []

    auth_client.patch(f"/posts/{draft['id']}", {"published": True})

    assert ids_of(other.get("/posts/")) == [draft["id"]]
    assert ids_of(auth_client.get("/posts/")) == [draft["id"]]


def test_a_like_shows_at_once_for_the_liker_and_for_everyone_else(user, auth_client):
    post = PostFactory()
    _, other = member()
    assert auth_client.get("/posts/").json()[0]["votes"] == 0
    assert other.get("/posts/").json()[0]["votes"] == 0

    auth_client.post("/vote/", {"post_id": post.pk, "dir": 1})

    assert auth_client.get("/posts/").json()[0] | {"Post": None} == {
        "Post": None,
        "votes": 1,
        "voted": True,
        "comments": 0,
    }
    assert other.get("/posts/").json()[0]["votes"] == 1
    assert other.get("/posts/").json()[0]["voted"] is False
    assert auth_client.get(f"/posts/{post.pk}").json()["voted"] is True

    auth_client.post("/vote/", {"post_id": post.pk, "dir": 0})

    assert auth_client.get("/posts/").json()[0]["voted"] is False
    assert other.get(f"/posts/{post.pk}").json()["votes"] == 0


def test_a_like_retires_that_post_only_not_the_shared_page(auth_client, django_assert_num_queries):
    liked, other = PostFactory.create_batch(2)
    reader, reader_client = member()
    reader_client.get("/posts/")
    reader_client.get("/posts/")  # the reader's likes are cached now too

    auth_client.post("/vote/", {"post_id": liked.pk, "dir": 1})

    # One query brings the page's entries (one was retired): no count, no ids, no auth.
    with django_assert_num_queries(1):
        page = reader_client.get("/posts/").json()
    assert {item["Post"]["id"]: item["votes"] for item in page} == {liked.pk: 1, other.pk: 0}


def test_an_edit_shows_at_once_in_every_list_and_by_id(user, auth_client):
    post = PostFactory(owner=user, title="before")
    _, other = member()
    other.get("/posts/")
    other.get(f"/posts/{post.pk}")

    auth_client.patch(f"/posts/{post.pk}", {"title": "after"})

    assert other.get("/posts/").json()[0]["Post"]["title"] == "after"
    assert other.get(f"/posts/{post.pk}").json()["Post"]["title"] == "after"


def test_a_search_counts_and_pages_only_the_matches_each_member_may_see(user, auth_client):
    PostFactory(title="Django tips")
    draft = PostFactory(owner=user, title="django draft", published=False)
    PostFactory(title="Other")
    _, other = member()

    mine = auth_client.get("/posts/?search=DJANGO")
    theirs = other.get("/posts/?search=DJANGO")

    assert (len(mine.json()), mine["X-Total-Count"]) == (2, "2")
    assert (len(theirs.json()), theirs["X-Total-Count"]) == (1, "1")
    assert draft.pk in ids_of(mine) and draft.pk not in ids_of(theirs)


def test_staff_count_and_see_hidden_posts_and_members_do_not():
    author, moderator = UserFactory(), UserFactory(is_staff=True)
    hidden = PostFactory(owner=author)
    shown = PostFactory()
    staff, reader = authorize(APIClient(), moderator), member()[1]
    assert reader.get("/posts/")["X-Total-Count"] == "2"

    moderation.post_hide(post=hidden, moderator=moderator, reason="spam")

    listed = staff.get("/posts/")
    assert (ids_of(listed), listed["X-Total-Count"]) == ([shown.pk, hidden.pk], "2")
    assert listed.json()[1]["hidden"] is True
    assert (ids_of(reader.get("/posts/")), reader.get("/posts/")["X-Total-Count"]) == (
        [shown.pk],
        "1",
    )
    assert reader.get(f"/posts/{hidden.pk}").status_code == 404
    assert staff.get(f"/posts/{hidden.pk}").json()["hidden_reason"] == "spam"


def test_a_deep_page_and_its_links_follow_new_posts(auth_client):
    posts = PostFactory.create_batch(5)
    assert ids_of(auth_client.get("/posts/?limit=2&skip=2")) == [posts[2].pk, posts[1].pk]

    newest = PostFactory()

    page = auth_client.get("/posts/?limit=2&skip=2")
    assert ids_of(page) == [posts[3].pk, posts[2].pk]
    assert page["X-Total-Count"] == "6"
    assert newest.pk not in ids_of(page)


def test_a_member_who_liked_too_many_to_keep_still_sees_the_right_flags(
    user, auth_client, monkeypatch
):
    monkeypatch.setattr("posts.entries.LIKES_CACHED_MAX", 1)
    liked = PostFactory.create_batch(2)
    plain = PostFactory()
    for post in liked:
        Vote.objects.create(user=user, post=post)

    for _ in range(3):  # cold, then the page's own flags, then the cached page
        flags = {item["Post"]["id"]: item["voted"] for item in auth_client.get("/posts/").json()}
        assert flags == {liked[0].pk: True, liked[1].pk: True, plain.pk: False}
    assert auth_client.get(f"/posts/{plain.pk}").json()["voted"] is False
    assert auth_client.get(f"/posts/{liked[0].pk}").json()["voted"] is True


@pytest.mark.parametrize("seed", range(25))
def test_a_merged_page_is_that_page_of_both_lists_sorted_together(seed):
    rng = random.Random(seed)
    keys = rng.sample(range(10_000), 300)
    public = sorted(((key // 3, post_id) for post_id, key in enumerate(keys[:250])), reverse=True)
    private = sorted(((key // 3, 1000 + n) for n, key in enumerate(keys[250:])), reverse=True)
    private = private[: rng.randint(0, len(private))]
    kept = rng.choice([len(public), 120])  # the whole public list, or only its newest
    merged = selectors._Merged(
        {"keys": public[:kept], "public": len(public), "hidden": 0},
        {"private": private, "hidden": 0, "drafts": len(private)},
    )
    everything = sorted(public + private, reverse=True)

    for offset in range(0, kept, 7):
        for limit in (0, 1, 10):
            if offset + limit <= kept:
                expected = [post_id for _, post_id in everything[offset : offset + limit]]
                assert merged.page(offset, limit) == expected, (offset, limit)
