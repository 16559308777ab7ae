"""POST/DELETE /users/{id}/block and GET /users/me/blocks (docs/api.md Part 3)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Block
from accounts.tests.factories import BlockFactory
from conftest import authorize
from social.models import Follow, FollowCounts

from .factories import FollowFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", ["", "/"])
def test_block_returns_201_and_stores_the_block(auth_client, user, other_user, suffix):
    response = auth_client.post(f"/users/{other_user.pk}/block{suffix}")

    assert response.status_code == 201
    assert response.json() == {"message": "blocked"}
    assert list(Block.objects.values_list("blocker", "blocked")) == [(user.pk, other_user.pk)]


def test_blocking_again_returns_200_and_keeps_one_row(auth_client, other_user):
    auth_client.post(f"/users/{other_user.pk}/block")

    response = auth_client.post(f"/users/{other_user.pk}/block")

    assert response.status_code == 200
    assert response.json() == {"message": "blocked"}
    assert Block.objects.count() == 1


def test_a_block_ends_follows_both_ways_and_moves_the_counts(auth_client, user, other_user):
    FollowFactory(follower=user, followee=other_user)
    FollowFactory(follower=other_user, followee=user)
    bystander = FollowFactory(followee=user)

    auth_client.post(f"/users/{other_user.pk}/block")

    assert list(Follow.objects.all()) == [bystander]
    assert FollowCounts.objects.get(user=user).followers == 1
    assert FollowCounts.objects.get(user=user).following == 0
    assert FollowCounts.objects.get(user=other_user).followers == 0


def test_blocking_yourself_is_a_422_about_the_path_id(auth_client, user):
    response = auth_client.post(f"/users/{user.pk}/block")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["path", "id"], "msg": "You cannot block yourself.", "type": "value_error"}
    ]
    assert not Block.objects.exists()


def test_blocking_an_unknown_member_is_a_404(auth_client):
    response = auth_client.post("/users/987654/block")

    assert response.status_code == 404
    assert response.json() == {"detail": "User with id: 987654 does not exist"}


def test_block_without_a_token_is_a_401(other_user):
    assert APIClient().post(f"/users/{other_user.pk}/block").status_code == 401
    assert not Block.objects.exists()


def test_unblock_returns_204_and_removes_only_ones_own_block(auth_client, user, other_user):
    BlockFactory(blocker=user, blocked=other_user)
    theirs = BlockFactory(blocker=other_user, blocked=user)

    response = auth_client.delete(f"/users/{other_user.pk}/block")

    assert response.status_code == 204
    assert list(Block.objects.all()) == [theirs]


def test_unblock_when_not_blocking_is_a_204(auth_client, other_user):
    assert auth_client.delete(f"/users/{other_user.pk}/block").status_code == 204


def test_unblocking_yourself_is_a_204_that_changes_nothing(auth_client, user, other_user):
    theirs = BlockFactory(blocker=other_user, blocked=user)

    response = auth_client.delete(f"/users/{user.pk}/block")

    assert response.status_code == 204
    assert list(Block.objects.all()) == [theirs]


def test_unblock_of_an_unknown_member_is_a_404(auth_client):
    response = auth_client.delete("/users/987654/block")

    assert response.status_code == 404
    assert response.json() == {"detail": "User with id: 987654 does not exist"}


def test_my_blocks_are_listed_newest_first_with_paging_headers(auth_client, user):
    blocked = [BlockFactory(blocker=user).blocked for _ in range(3)]
    BlockFactory(blocked=user)  # someone blocking the caller is not theirs to list

    response = auth_client.get("/users/me/blocks?limit=2")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [blocked[2].pk, blocked[1].pk]
    assert response["X-Total-Count"] == "3"
    assert 'rel="next"' in response["Link"]


def test_my_blocks_need_a_token(db):
    assert APIClient().get("/users/me/blocks").status_code == 401


def test_lifting_a_block_lets_them_follow_again(auth_client, user, other_user):
    auth_client.post(f"/users/{other_user.pk}/block")
    assert auth_client.post(f"/users/{other_user.pk}/follow").status_code == 403

    auth_client.delete(f"/users/{other_user.pk}/block")

    assert auth_client.post(f"/users/{other_user.pk}/follow").status_code == 201
    assert Follow.objects.filter(follower=user, followee=other_user).exists()


def test_one_cannot_follow_someone_the_other_blocked_either(user, other_user):
    BlockFactory(blocker=user, blocked=other_user)
    theirs = authorize(APIClient(), other_user)

    response = theirs.post(f"/users/{user.pk}/follow")

    assert response.status_code == 403
    assert not Follow.objects.exists()
