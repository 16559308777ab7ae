"""Blocks in the posts' one visibility rule: lists, counts, posts by id, votes and reports.

Run with no cache, with Django's local-memory cache and with Redis: the shared list a member's
page is cut from must leave out, at once, the posts of whoever a block stands between.
"""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import BlockFactory, UserFactory
from conftest import authorize
from core import cache
from moderation.models import Report
from posts.models import Vote
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["no cache", "local memory", "redis"])
def _cache(request, settings):
    settings.API_CACHE = request.param != "no cache"
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    cache.memory.clear()


@pytest.fixture
def scene(user, other_user):
    """The caller (`user`) and `other_user` each with two posts, and a bystander's post."""
    return {
        "mine": PostFactory.create_batch(2, owner=user),
        "theirs": PostFactory.create_batch(2, owner=other_user),
        "bystander": PostFactory(),
    }


def ids_of(response) -> list[int]:
    return [item["Post"]["id"] for item in response.json()]


def block(blocker, blocked) -> None:
    """Through the API, as members do (the caches are told)."""
    assert authorize(APIClient(), blocker).post(f"/users/{blocked.pk}/block").status_code == 201


@pytest.mark.parametrize("who_blocked", ["caller", "them"])
def test_neither_side_sees_the_others_posts_in_lists_by_id_or_counts(
    user, other_user, auth_client, scene, who_blocked
):
    auth_client.get("/posts/")  # cache the lists as they were
    theirs = authorize(APIClient(), other_user)
    theirs.get("/posts/")

    if who_blocked == "caller":
        block(user, other_user)
    else:
        block(other_user, user)

    mine = auth_client.get("/posts/")
    assert set(ids_of(mine)) == {p.pk for p in scene["mine"]} | {scene["bystander"].pk}
    assert mine["X-Total-Count"] == "3"
    assert auth_client.get(f"/posts/{scene['theirs'][0].pk}").status_code == 404
    other = theirs.get("/posts/")
    assert set(ids_of(other)) == {p.pk for p in scene["theirs"]} | {scene["bystander"].pk}
    assert other["X-Total-Count"] == "3"
    assert theirs.get(f"/posts/{scene['mine'][0].pk}").status_code == 404


def test_deep_pages_and_searches_leave_them_out_too(user, other_user, auth_client, scene):
    block(user, other_user)

    deep = auth_client.get("/posts/?limit=2&skip=1")
    search = auth_client.get("/posts/?search=post")

    assert deep["X-Total-Count"] == "3"
    assert not {p.pk for p in scene["theirs"]} & set(ids_of(deep))
    assert search["X-Total-Count"] == "3"
    assert not {p.pk for p in scene["theirs"]} & set(ids_of(search))


def test_lifting_the_block_shows_their_posts_again_at_once(user, other_user, auth_client, scene):
    block(user, other_user)
    auth_client.get("/posts/")
    auth_client.get(f"/posts/{scene['theirs'][0].pk}")

    assert auth_client.delete(f"/users/{other_user.pk}/block").status_code == 204

    assert auth_client.get("/posts/")["X-Total-Count"] == "5"
    assert auth_client.get(f"/posts/{scene['theirs'][0].pk}").status_code == 200


def test_a_block_stops_votes_and_reports_on_their_posts(user, other_user, auth_client, scene):
    block(other_user, user)
    post = scene["theirs"][0]

    vote = auth_client.post("/vote/", {"post_id": post.pk, "dir": 1}, format="json")
    report = auth_client.post(f"/posts/{post.pk}/report", {"reason": "x"}, format="json")

    assert vote.status_code == 404
    assert vote.json() == {"detail": f"Post with id: {post.pk} does not exist"}
    assert report.status_code == 404
    assert not Vote.objects.exists() and not Report.objects.exists()


def test_staff_still_see_the_posts_of_someone_who_blocked_them(other_user, scene):
    moderator = UserFactory(is_staff=True)
    BlockFactory(blocker=other_user, blocked=moderator)
    client = authorize(APIClient(), moderator)

    assert client.get(f"/posts/{scene['theirs'][0].pk}").status_code == 200
    assert client.get("/posts/")["X-Total-Count"] == "5"


def test_others_are_not_touched_by_someone_elses_block(user, other_user, scene):
    block(user, other_user)
    bystander = authorize(APIClient(), UserFactory())

    assert bystander.get("/posts/")["X-Total-Count"] == "5"
    assert bystander.get(f"/posts/{scene['theirs'][0].pk}").status_code == 200


def test_a_page_of_a_member_with_blocks_is_the_page_of_what_they_may_see(user, auth_client):
    blocked = UserFactory()
    others = UserFactory()
    posts = [PostFactory(owner=blocked if n % 3 == 0 else others) for n in range(30)]
    block(user, blocked)
    visible = [p.pk for p in reversed(posts) if p.owner_id != blocked.pk]

    pages = [ids_of(auth_client.get(f"/posts/?limit=7&skip={skip}")) for skip in range(0, 21, 7)]

    assert [post_id for page in pages for post_id in page] == visible
