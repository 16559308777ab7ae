"""POST/DELETE /users/{id}/follow and the follower and following lists (docs/api.md Part 3)."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import BlockFactory
from social.models import Follow, FollowCounts

from .factories import FollowFactory

pytestmark = pytest.mark.django_db


def counts(user) -> tuple[int, int]:
    row = FollowCounts.objects.filter(user=user).first()
    return (row.followers, row.following) if row else (0, 0)


# POST /users/{id}/follow ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_follow_returns_201_with_their_profile_and_stores_one_row(
    auth_client, user, other_user, suffix
):
    response = auth_client.post(f"/users/{other_user.pk}/follow{suffix}")

    assert response.status_code == 201
    body = response.json()
    assert body["id"] == other_user.pk and body["email"] == other_user.email
    assert (body["followers_count"], body["following"], body["followed_by"]) == (1, True, False)
    assert list(Follow.objects.values_list("follower", "followee")) == [(user.pk, other_user.pk)]
    assert counts(other_user) == (1, 0) and counts(user) == (0, 1)


def test_following_again_returns_200_and_keeps_one_row_and_the_counts(
    auth_client, user, other_user
):
    auth_client.post(f"/users/{other_user.pk}/follow")

    response = auth_client.post(f"/users/{other_user.pk}/follow")

    assert response.status_code == 200
    assert response.json()["followers_count"] == 1
    assert Follow.objects.count() == 1
    assert counts(other_user) == (1, 0) and counts(user) == (0, 1)


def test_follow_says_when_they_follow_back(auth_client, user, other_user):
    FollowFactory(follower=other_user, followee=user)

    body = auth_client.post(f"/users/{other_user.pk}/follow").json()

    assert (body["following"], body["followed_by"]) == (True, True)
    assert (body["followers_count"], body["following_count"]) == (1, 1)


def test_following_yourself_is_a_422_about_the_path_id(auth_client, user):
    response = auth_client.post(f"/users/{user.pk}/follow")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["path", "id"], "msg": "You cannot follow yourself.", "type": "value_error"}
        ]
    }
    assert not Follow.objects.exists()


def test_following_an_unknown_member_is_a_404(auth_client):
    response = auth_client.post("/users/987654/follow")

    assert response.status_code == 404
    assert response.json() == {"detail": "User with id: 987654 does not exist"}


def test_follow_with_a_bad_id_is_a_422(auth_client):
    response = auth_client.post("/users/abc/follow")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "id"]


def test_follow_without_a_token_is_a_401(other_user):
    response = APIClient().post(f"/users/{other_user.pk}/follow")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Follow.objects.exists()


@pytest.mark.parametrize("who_blocked", ["caller", "them"])
def test_follow_across_a_block_is_a_403_either_way(auth_client, user, other_user, who_blocked):
    if who_blocked == "caller":
        BlockFactory(blocker=user, blocked=other_user)
    else:
        BlockFactory(blocker=other_user, blocked=user)

    response = auth_client.post(f"/users/{other_user.pk}/follow")

    assert response.status_code == 403
    assert response.json() == {"detail": "You cannot follow this user"}
    assert not Follow.objects.exists()


# DELETE /users/{id}/follow ----------------------------------------------------------------


def test_unfollow_returns_204_removes_the_row_and_moves_the_counts(auth_client, user, other_user):
    FollowFactory(follower=user, followee=other_user)

    response = auth_client.delete(f"/users/{other_user.pk}/follow")

    assert response.status_code == 204
    assert response.content == b""
    assert not Follow.objects.exists()
    assert counts(other_user) == (0, 0) and counts(user) == (0, 0)


def test_unfollow_when_not_following_is_a_204_and_leaves_their_other_follows(
    auth_client, other_user
):
    kept = FollowFactory(followee=other_user)

    response = auth_client.delete(f"/users/{other_user.pk}/follow")

    assert response.status_code == 204
    assert list(Follow.objects.all()) == [kept]
    assert counts(other_user) == (1, 0)


def test_unfollowing_yourself_is_a_204_that_changes_nothing(auth_client, user):
    kept = FollowFactory(followee=user)

    response = auth_client.delete(f"/users/{user.pk}/follow")

    assert response.status_code == 204
    assert list(Follow.objects.all()) == [kept]
    assert counts(user) == (1, 0)


def test_unfollow_of_an_unknown_member_is_a_404(auth_client):
    response = auth_client.delete("/users/987654/follow")

    assert response.status_code == 404
    assert response.json() == {"detail": "User with id: 987654 does not exist"}


# GET /users/{id}/followers and /following -------------------------------------------------


def test_followers_are_listed_newest_follow_first_with_paging_headers(other_user):
    followers = [FollowFactory(followee=other_user).follower for _ in range(3)]

    response = APIClient().get(f"/users/{other_user.pk}/followers?limit=2")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [followers[2].pk, followers[1].pk]
    assert set(response.json()[0]) == {"id", "email", "created_at"}
    assert response["X-Total-Count"] == "3"
    assert 'rel="next"' in response["Link"] and "skip=2" in response["Link"]


def test_following_is_listed_newest_follow_first(user):
    followed = [FollowFactory(follower=user).followee for _ in range(3)]

    response = APIClient().get(f"/users/{user.pk}/following")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [u.pk for u in reversed(followed)]
    assert response["X-Total-Count"] == "3"
    assert "Link" not in response


def test_the_lists_page_twenty_by_default_and_at_most_a_hundred(user):
    for _ in range(25):
        FollowFactory(followee=user)

    assert len(APIClient().get(f"/users/{user.pk}/followers").json()) == 20
    assert len(APIClient().get(f"/users/{user.pk}/followers?limit=500").json()) == 25
    assert APIClient().get(f"/users/{user.pk}/followers?limit=0").json() == []


def test_a_bad_limit_is_a_422_about_the_query(user):
    response = APIClient().get(f"/users/{user.pk}/followers?limit=-1")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_suspended_members_vanish_from_the_lists_and_the_counts(user, other_user):
    FollowFactory(follower=other_user, followee=user)
    FollowFactory(follower=user, followee=other_user)
    kept = FollowFactory(followee=user).follower

    other_user.is_active = False
    other_user.save(update_fields=["is_active"])

    followers = APIClient().get(f"/users/{user.pk}/followers")
    following = APIClient().get(f"/users/{user.pk}/following")
    assert [item["id"] for item in followers.json()] == [kept.pk]
    assert followers["X-Total-Count"] == "1"
    assert following.json() == [] and following["X-Total-Count"] == "0"
    assert counts(user) == (1, 0)

    other_user.is_active = True
    other_user.save(update_fields=["is_active"])

    assert counts(user) == (2, 1)
    assert APIClient().get(f"/users/{user.pk}/followers")["X-Total-Count"] == "2"


def test_the_lists_of_an_unknown_member_are_a_404(db):
    for path in ("/users/987654/followers", "/users/987654/following"):
        response = APIClient().get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "User with id: 987654 does not exist"}


@pytest.mark.parametrize("limit", [1, 100])
def test_a_list_costs_two_queries_whatever_the_page_size(
    user, limit, django_assert_max_num_queries
):
    for _ in range(30):
        FollowFactory(followee=user)

    with django_assert_max_num_queries(2):
        response = APIClient().get(f"/users/{user.pk}/followers?limit={limit}")

    assert len(response.json()) == min(limit, 30)


def test_a_deleted_member_takes_their_follows_and_counts_with_them(user, other_user):
    FollowFactory(follower=other_user, followee=user)
    FollowFactory(follower=user, followee=other_user)

    other_user.delete()

    assert not Follow.objects.exists()
    assert counts(user) == (0, 0)
