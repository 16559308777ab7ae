"""Votes under real concurrency: threads with their own database connections, no mocks.

Each thread is a separate client with its own connection, so the database (on PostgreSQL: the
unique index on votes(user_id, post_id)) is what settles the race, exactly as in production.
"""

from collections import Counter

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import login
from core.tests.concurrency import client_for, run_at_once, skip_without_real_locks
from posts.models import Post, Vote

from .factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_connections():
    skip_without_real_locks()


def vote_job(token: str, post_id: int, direction: int):
    def job():
        client = client_for(token)
        return client.post("/vote/", {"post_id": post_id, "dir": direction}, format="json")

    return job


@pytest.mark.parametrize("threads", [10, 50])
def test_same_vote_at_once_gives_one_201_the_rest_409_and_one_row(threads):
    user = UserFactory()
    post = PostFactory()
    token = login(APIClient(), user)["access_token"]

    responses = run_at_once([vote_job(token, post.pk, 1) for _ in range(threads)])

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: threads - 1}
    assert [r.json() for r in responses if r.status_code == 201] == [
        {"message": "successfully added vote"}
    ]
    assert Vote.objects.filter(user=user, post=post).count() == 1


def test_same_unvote_at_once_gives_one_201_the_rest_404():
    user = UserFactory()
    post = PostFactory()
    Vote.objects.create(user=user, post=post)
    token = login(APIClient(), user)["access_token"]

    responses = run_at_once([vote_job(token, post.pk, 0) for _ in range(10)])

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 404: 9}
    assert not Vote.objects.exists()


def test_vote_and_unvote_storm_leaves_counts_equal_to_rows():
    users = UserFactory.create_batch(5)
    post = PostFactory()
    tokens = [login(APIClient(), user)["access_token"] for user in users]

    # Each user runs two clients at once; each client alternates vote and unvote, starting
    # differently, so adds race adds (409) and removes race removes (404).
    def storm(token, first_direction):
        def job():
            client = client_for(token)
            statuses = []
            for step in range(8):
                direction = (first_direction + step) % 2
                body = {"post_id": post.pk, "dir": direction}
                statuses.append(client.post("/vote/", body, format="json").status_code)
            return statuses

        return job

    jobs = [storm(token, first) for token in tokens for first in (0, 1)]
    results = run_at_once(jobs)

    assert set(status for statuses in results for status in statuses) <= {201, 404, 409}
    rows = Vote.objects.filter(post=post).count()
    assert rows <= len(users)
    assert all(
        count == 1 for count in Counter(Vote.objects.values_list("user_id", flat=True)).values()
    )
    shown = client_for(tokens[0]).get(f"/posts/{post.pk}").json()["votes"]
    assert shown == rows
    listed = client_for(tokens[0]).get("/posts/").json()[0]["votes"]
    assert listed == rows


def test_voting_while_the_post_is_deleted_never_fails_with_500():
    owner, *voters = UserFactory.create_batch(9)
    post = PostFactory(owner=owner)
    owner_token = login(APIClient(), owner)["access_token"]
    voter_tokens = [login(APIClient(), voter)["access_token"] for voter in voters]

    def delete():
        return client_for(owner_token).delete(f"/posts/{post.pk}")

    jobs = [delete, *(vote_job(token, post.pk, 1) for token in voter_tokens)]
    responses = run_at_once(jobs)

    assert responses[0].status_code == 204
    assert {response.status_code for response in responses[1:]} <= {201, 404}
    assert not Vote.objects.exists()


@pytest.mark.parametrize("threads", [2, 8])
def test_changes_holding_the_same_tag_at_once_one_is_made_the_rest_are_412(threads):
    user = UserFactory()
    post = PostFactory(owner=user, title="before")
    token = login(APIClient(), user)["access_token"]
    tag = client_for(token).get(f"/posts/{post.pk}")["ETag"]

    def put_job(title: str):
        def job():
            body = {"title": title, "content": "c"}
            return client_for(token).put(
                f"/posts/{post.pk}", body, format="json", HTTP_IF_MATCH=tag
            )

        return job

    responses = run_at_once([put_job(f"edit {n}") for n in range(threads)])

    assert Counter(response.status_code for response in responses) == {200: 1, 412: threads - 1}
    (winner,) = [response for response in responses if response.status_code == 200]
    assert Post.objects.get(pk=post.pk).title == winner.json()["title"]
    assert winner["ETag"] == client_for(token).get(f"/posts/{post.pk}")["ETag"]
    assert all(
        response.json() == {"detail": "The resource has changed since you read it"}
        for response in responses
        if response.status_code == 412
    )
