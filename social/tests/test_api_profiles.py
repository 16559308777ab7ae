"""GET /users/{id} and GET /users/me: a `Profile` with counts kept exact (docs/api.md Part 3)."""

from datetime import datetime

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import BlockFactory, UserFactory
from conftest import authorize
from core import cache
from moderation import services as moderation
from posts.tests.factories import PostFactory

from .factories import FollowFactory

pytestmark = pytest.mark.django_db


def user_body(user) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
    }


@pytest.fixture
def author(db):
    """A member with 3 public posts, 1 hidden by a moderator, 2 drafts, 2 followers, 1 followed."""
    member = UserFactory()
    PostFactory.create_batch(3, owner=member)
    hidden = PostFactory(owner=member)
    moderation.post_hide(post=hidden, moderator=UserFactory(is_staff=True), reason="spam")
    PostFactory.create_batch(2, owner=member, published=False)
    FollowFactory.create_batch(2, followee=member)
    FollowFactory(follower=member)
    return member


@pytest.mark.parametrize("suffix", ["", "/"])
def test_anyone_reads_a_profile_with_public_counts_and_no_relation(author, suffix):
    response = APIClient().get(f"/users/{author.pk}{suffix}")

    assert response.status_code == 200
    assert response.json() == {
        **user_body(author),
        "posts_count": 3,
        "followers_count": 2,
        "following_count": 1,
    }
    assert datetime.fromisoformat(response.json()["created_at"]).tzinfo is not None
    assert "password" not in response.content.decode()


def test_a_member_also_sees_how_they_stand_with_them(author, user, auth_client):
    FollowFactory(follower=user, followee=author)

    body = auth_client.get(f"/users/{author.pk}").json()

    assert (body["following"], body["followed_by"]) == (True, False)
    assert (body["posts_count"], body["followers_count"]) == (3, 3)


def test_a_stale_token_reads_the_public_profile_instead_of_a_401(author):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")

    response = client.get(f"/users/{author.pk}")

    assert response.status_code == 200
    assert "following" not in response.json()


def test_posts_count_is_what_the_caller_may_see(author):
    staff = authorize(APIClient(), UserFactory(is_staff=True))
    own = authorize(APIClient(), author)

    assert staff.get(f"/users/{author.pk}").json()["posts_count"] == 4  # and the hidden one
    assert own.get("/users/me").json()["posts_count"] == 6  # and their drafts


@pytest.mark.parametrize("who_blocked", ["caller", "them"])
def test_across_a_block_the_profile_shows_no_posts(author, user, auth_client, who_blocked):
    if who_blocked == "caller":
        BlockFactory(blocker=user, blocked=author)
    else:
        BlockFactory(blocker=author, blocked=user)

    body = auth_client.get(f"/users/{author.pk}").json()

    assert body["posts_count"] == 0
    assert (body["following"], body["followed_by"]) == (False, False)


def test_my_profile_has_my_counts(auth_client, user, other_user):
    PostFactory(owner=user, published=False)
    FollowFactory(follower=other_user, followee=user)

    response = auth_client.get("/users/me")

    assert response.status_code == 200
    assert response.json() == {
        **user_body(user),
        "posts_count": 1,
        "followers_count": 1,
        "following_count": 0,
        "following": False,
        "followed_by": False,
    }


def test_my_profile_needs_a_token(db):
    response = APIClient().get("/users/me")

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_unknown_member_is_a_404_with_the_original_message(db):
    response = APIClient().get("/users/987654")

    assert response.status_code == 404
    assert response.json() == {"detail": "User with id: 987654 does not exist"}


def test_a_bad_id_is_a_422_about_the_path(db):
    response = APIClient().get("/users/abc")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "id"]


def test_counts_follow_every_write_at_once(author, user, auth_client):
    before = auth_client.get(f"/users/{author.pk}").json()

    auth_client.post(f"/users/{author.pk}/follow")
    PostFactory(owner=author)
    after = auth_client.get(f"/users/{author.pk}").json()

    assert after["followers_count"] == before["followers_count"] + 1
    assert after["posts_count"] == before["posts_count"] + 1
    assert after["following"] is True


@pytest.mark.parametrize("viewer", ["anonymous", "member"])
def test_a_profile_costs_one_query_and_the_token_user(
    author, user, viewer, django_assert_max_num_queries
):
    client = APIClient() if viewer == "anonymous" else authorize(APIClient(), user)

    with django_assert_max_num_queries(1 if viewer == "anonymous" else 2):
        response = client.get(f"/users/{author.pk}")

    assert response.status_code == 200


@pytest.fixture(params=["local memory", "redis"])
def cached(request, settings):
    """The read cache on, in this process's memory or in Redis (as in production)."""
    settings.API_CACHE = True
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    cache.memory.clear()


def test_cached_profiles_follow_follows_suspensions_and_deletions_at_once(
    cached, user, auth_client
):
    idol = UserFactory()
    fan = FollowFactory(followee=idol).follower
    FollowFactory(follower=user, followee=idol)
    path = f"/users/{idol.pk}"
    assert auth_client.get(path).json()["followers_count"] == 2  # now cached

    moderation.user_suspend(user=fan, moderator=UserFactory(is_staff=True))
    assert auth_client.get(path).json()["followers_count"] == 1

    auth_client.delete(f"{path}/follow")
    body = auth_client.get(path).json()
    assert (body["followers_count"], body["following"]) == (0, False)

    moderation.user_reinstate(user=fan, moderator=UserFactory(is_staff=True))
    assert auth_client.get(path).json()["followers_count"] == 1
    fan.delete()
    assert auth_client.get(path).json()["followers_count"] == 0


def relation(client, member) -> tuple:
    body = client.get(f"/users/{member.pk}").json()
    return body["following"], body["followed_by"], body["posts_count"]


def test_cached_relations_follow_every_write_on_either_side(cached, user, auth_client):
    idol, other = UserFactory(), UserFactory()
    PostFactory(owner=idol)
    them = authorize(APIClient(), idol)
    assert relation(auth_client, idol) == (False, False, 1)  # now cached
    assert relation(auth_client, other) == (False, False, 0)

    them.post(f"/users/{user.pk}/follow")
    assert relation(auth_client, idol) == (False, True, 1)
    auth_client.post(f"/users/{idol.pk}/follow")
    assert relation(auth_client, idol) == (True, True, 1)
    assert relation(auth_client, other) == (False, False, 0)

    them.post(f"/users/{user.pk}/block")
    assert relation(auth_client, idol) == (False, False, 0)
    them.delete(f"/users/{user.pk}/block")
    assert relation(auth_client, idol) == (False, False, 1)
    auth_client.post(f"/users/{other.pk}/follow")
    assert relation(auth_client, other) == (True, False, 0)
    assert relation(auth_client, idol) == (False, False, 1)


def test_a_member_following_more_than_is_kept_reads_each_relation_from_the_database(
    cached, monkeypatch, user, auth_client, django_assert_num_queries
):
    monkeypatch.setattr("social.selectors.FOLLOWS_CACHED_MAX", 2)
    followed = [FollowFactory(follower=user).followee for _ in range(3)]
    stranger = UserFactory()

    assert [relation(auth_client, member)[0] for member in followed] == [True, True, True]
    assert relation(auth_client, stranger) == (False, False, 0)
    with django_assert_num_queries(1):  # how they stand: the member's own part is kept
        assert relation(auth_client, followed[1]) == (True, False, 0)
    auth_client.delete(f"/users/{followed[0].pk}/follow")
    assert relation(auth_client, followed[0]) == (False, False, 0)
    with django_assert_num_queries(0):  # two follows now: kept whole again
        assert relation(auth_client, followed[1]) == (True, False, 0)


def test_a_member_browsing_profiles_pays_a_query_only_for_one_not_yet_read(
    cached, user, auth_client, django_assert_num_queries
):
    first, second = UserFactory(), UserFactory()
    auth_client.get(f"/users/{first.pk}")  # the token's user, the caller's follows and blocks

    with django_assert_num_queries(1):  # the second member's row: the rest is kept
        assert auth_client.get(f"/users/{second.pk}").status_code == 200
    with django_assert_num_queries(0):
        assert auth_client.get(f"/users/{second.pk}").status_code == 200
