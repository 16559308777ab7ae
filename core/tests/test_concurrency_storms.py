"""Storms: many clients at once on one post, one email, one refresh token. No 500, no lost write.

posts/tests/test_concurrency.py races identical votes (10 and 50 at once: one row, one 201, the
rest 409), a small vote and unvote storm and votes against a delete; accounts/tests has
sign-ups with one email and refreshes of one token at once. Here: a storm by many members with
readers in the middle of it, where each member's last word must be what the database says; one
email wanted by sign-ups and by profile changes at once; one refresh token logged out at once;
password changes with one current password at once.

Each thread is a client with its own database connection, so the database settles every race,
as in production (PostgreSQL, or the SQLite test file: never the in-memory database).
"""

import random
from collections import Counter

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import login
from core.tests.concurrency import skip_without_real_locks
from core.tests.security.test_login_rate_limits import SlowHasher
from posts.models import Vote
from posts.tests.factories import PostFactory
from posts.tests.test_concurrency import client_for, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_connections():
    skip_without_real_locks()


def test_vote_storm_by_many_members_with_readers_ends_with_counts_equal_to_rows():
    members = UserFactory.create_batch(16)
    post = PostFactory()
    tokens = [login(APIClient(), member)["access_token"] for member in members]
    rng = random.Random(7)
    plans = [[rng.choice([0, 1]) for _ in range(6)] for _ in members]

    def voter(token, plan):
        def job():
            client = client_for(token)
            body = {"post_id": post.pk}
            return [
                (direction, client.post("/vote/", {**body, "dir": direction}, format="json"))
                for direction in plan
            ]

        return job

    def reader(token):
        def job():
            client = client_for(token)
            return [client.get(path) for path in [f"/posts/{post.pk}", "/posts/"] * 4]

        return job

    jobs = [voter(token, plan) for token, plan in zip(tokens, plans, strict=True)]
    jobs += [reader(token) for token in tokens[:4]]
    results = run_at_once(jobs)

    for member, steps in zip(members, results, strict=False):
        answers = [(direction, response.status_code) for direction, response in steps]
        assert all(status in {201, 404, 409} for _, status in answers), answers
        # One client per member, so its requests ran in order: its last word stands.
        last_direction = answers[-1][0]
        assert Vote.objects.filter(user=member, post=post).exists() == (last_direction == 1)
    for reads in results[len(members) :]:
        assert all(read.status_code == 200 for read in reads)
        counts = [
            read.json()["votes"] if "votes" in read.json() else read.json()[0]["votes"]
            for read in reads
        ]
        assert all(0 <= count <= len(members) for count in counts)
    rows = Vote.objects.filter(post=post).count()
    assert rows == sum(plan[-1] for plan in plans)
    assert client_for(tokens[0]).get(f"/posts/{post.pk}").json()["votes"] == rows
    assert client_for(tokens[0]).get("/posts/").json()[0]["votes"] == rows


def test_one_email_wanted_by_sign_ups_and_profile_changes_at_once_has_one_owner():
    wanted = "Wanted@Example.com"
    movers = UserFactory.create_batch(6)
    tokens = [login(APIClient(), mover)["access_token"] for mover in movers]
    spellings = [wanted, wanted.lower(), wanted.upper(), "wanted@EXAMPLE.COM"]

    def sign_up(n):
        return lambda: APIClient().post(
            "/users/", {"email": spellings[n % 4], "password": PASSWORD}, format="json"
        )

    def move(token, n):
        return lambda: client_for(token).patch(
            "/users/me", {"email": spellings[n % 4]}, format="json"
        )

    jobs = [sign_up(n) for n in range(8)] + [move(token, n) for n, token in enumerate(tokens)]
    responses = run_at_once(jobs)

    statuses = Counter(response.status_code for response in responses)
    assert statuses[201] + statuses[200] == 1, statuses
    assert statuses[409] == len(jobs) - 1, statuses
    owners = [u for u in User.objects.all() if u.email.lower() == wanted.lower()]
    assert len(owners) == 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["detail"].startswith("User with email: ")


def test_one_refresh_token_logged_out_at_once_is_revoked_once():
    user = UserFactory()
    tokens = login(APIClient(), user)

    def log_out():
        client = client_for(tokens["access_token"])
        return client.post("/logout", {"refresh_token": tokens["refresh_token"]}, format="json")

    responses = run_at_once([log_out] * 8)

    assert Counter(response.status_code for response in responses) == {204: 1, 401: 7}
    refreshed = APIClient().post(
        "/token/refresh", {"refresh_token": tokens["refresh_token"]}, format="json"
    )
    assert refreshed.status_code == 401


def test_refreshing_and_logging_out_one_token_at_once_leaves_no_usable_pair_behind():
    user = UserFactory()
    tokens = login(APIClient(), user)

    def refresh():
        return APIClient().post(
            "/token/refresh", {"refresh_token": tokens["refresh_token"]}, format="json"
        )

    def log_out():
        client = client_for(tokens["access_token"])
        return client.post("/logout", {"refresh_token": tokens["refresh_token"]}, format="json")

    responses = run_at_once([refresh, log_out] * 4)

    winners = [r for r in responses if r.status_code in (200, 204)]
    assert len(winners) == 1, [r.status_code for r in responses]
    assert all(r.status_code == 401 for r in responses if r not in winners)


def test_password_changes_sent_at_once_with_one_current_password_succeed_once(settings):
    settings.PASSWORD_HASHERS = [f"{SlowHasher.__module__}.SlowHasher"]  # checks that overlap
    user = UserFactory()
    token = login(APIClient(), user)["access_token"]

    def change(n):
        body = {"current_password": PASSWORD, "new_password": f"a-new-passphrase-{n}"}
        return lambda: client_for(token).post("/users/me/password", body, format="json")

    responses = run_at_once([change(n) for n in range(6)])

    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [204] + [403] * 5
    winner = statuses.index(204)
    user.refresh_from_db()
    assert user.check_password(f"a-new-passphrase-{winner}")
