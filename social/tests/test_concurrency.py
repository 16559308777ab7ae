"""Follows and blocks under real concurrency: threads with their own connections (PostgreSQL).

The database settles the races: the members' row locks queue a follow behind a block of the
same pair, and the unique constraints leave one row whatever arrives at once.
"""

from collections import Counter

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import Block, User
from accounts.tests.factories import UserFactory
from conftest import login
from posts.tests.factories import PostFactory
from posts.tests.test_concurrency import _real_connections, client_for, run_at_once  # noqa: F401
from social.models import Follow, FollowCounts

pytestmark = pytest.mark.django_db(transaction=True)


def token_of(user) -> str:
    return login(APIClient(), user)["access_token"]


def request_job(token: str, method: str, path: str):
    def job():
        return getattr(client_for(token), method)(path)

    return job


@pytest.mark.parametrize("threads", [2, 20])
def test_the_same_follow_at_once_makes_one_row_one_201_and_exact_counts(threads):
    fan, idol = UserFactory(), UserFactory()
    token = token_of(fan)

    responses = run_at_once(
        [request_job(token, "post", f"/users/{idol.pk}/follow") for _ in range(threads)]
    )

    assert Counter(r.status_code for r in responses) == {201: 1, 200: threads - 1}
    assert Follow.objects.filter(follower=fan, followee=idol).count() == 1
    assert FollowCounts.objects.get(user=idol).followers == 1
    assert FollowCounts.objects.get(user=fan).following == 1


def test_many_fans_following_at_once_keep_the_count_exact():
    idol = UserFactory()
    fans = UserFactory.create_batch(20)
    tokens = [token_of(fan) for fan in fans]

    responses = run_at_once(
        [request_job(token, "post", f"/users/{idol.pk}/follow") for token in tokens]
    )

    assert {r.status_code for r in responses} == {201}
    assert FollowCounts.objects.get(user=idol).followers == 20 == Follow.objects.count()


def test_a_block_racing_follows_never_leaves_a_follow_behind():
    blocker, other = UserFactory(), UserFactory()
    blocker_token, other_token = token_of(blocker), token_of(other)

    responses = run_at_once(
        [
            request_job(blocker_token, "post", f"/users/{other.pk}/block"),
            *[request_job(other_token, "post", f"/users/{blocker.pk}/follow") for _ in range(5)],
            *[request_job(blocker_token, "post", f"/users/{other.pk}/follow") for _ in range(5)],
        ]
    )

    assert responses[0].status_code == 201
    assert Block.objects.count() == 1
    assert not Follow.objects.exists()
    assert {r.status_code for r in responses[1:]} <= {200, 201, 403}
    counts = {row.user_id: (row.followers, row.following) for row in FollowCounts.objects.all()}
    assert set(counts.values()) <= {(0, 0)}


def test_the_same_unfollow_at_once_counts_down_once():
    fan, idol = UserFactory(), UserFactory()
    token = token_of(fan)
    client_for(token).post(f"/users/{idol.pk}/follow")

    responses = run_at_once(
        [request_job(token, "delete", f"/users/{idol.pk}/follow") for _ in range(10)]
    )

    assert {r.status_code for r in responses} == {204}
    assert not Follow.objects.exists()
    assert FollowCounts.objects.get(user=idol).followers == 0
    assert FollowCounts.objects.get(user=fan).following == 0


def test_email_changes_holding_the_same_tag_at_once_one_is_made_the_rest_are_412():
    user = UserFactory()
    token = token_of(user)
    tag = client_for(token).get("/users/me")["ETag"]

    def change_job(email: str):
        def job():
            return client_for(token).patch(
                "/users/me", {"email": email}, format="json", HTTP_IF_MATCH=tag
            )

        return job

    responses = run_at_once([change_job(f"edit{n}@example.com") for n in range(8)])

    assert Counter(response.status_code for response in responses) == {200: 1, 412: 7}
    (winner,) = [response for response in responses if response.status_code == 200]
    assert User.objects.get(pk=user.pk).email == winner.json()["email"]
    assert winner["ETag"] == client_for(token).get("/users/me")["ETag"]


def test_a_follow_made_while_a_post_is_being_written_shows_the_post_once_it_commits(
    redis_cache, settings
):
    """The post's fan-out finds its author's followers again after its commit: a follower who
    followed, and cached their feed, while the post was uncommitted is among them."""
    settings.API_CACHE = True
    idol, fan = UserFactory(), UserFactory()
    token = token_of(fan)

    def follow_and_read_the_feed():
        client_for(token).post(f"/users/{idol.pk}/follow")
        return client_for(token).get("/feed").json()

    with transaction.atomic():
        post = PostFactory(owner=idol)  # its followers, found now: not the fan yet
        (page,) = run_at_once([follow_and_read_the_feed])
    assert page == []  # the post was not committed: the fan's feed was cached without it

    page = client_for(token).get("/feed").json()

    assert [item["Post"]["id"] for item in page] == [post.pk]
