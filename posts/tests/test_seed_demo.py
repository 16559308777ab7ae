"""manage.py seed_demo: counts, the demo account's login, idempotent re-runs, unique votes."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from posts.management.commands.seed_demo import (
    DEMO_ACCOUNT_POSTS,
    DEMO_EMAIL,
    DEMO_PASSWORD,
)
from posts.models import Post, Vote

pytestmark = pytest.mark.django_db


def seed(**counts) -> str:
    out, err = StringIO(), StringIO()
    options = {"users": 5, "posts": 20, "votes": 30, "seed": 1, **counts}
    call_command("seed_demo", no_progress=True, stdout=out, stderr=err, **options)
    return out.getvalue() + err.getvalue()


def demo_users():
    return User.objects.filter(email__startswith="demo-user-")


def login(password: str = DEMO_PASSWORD):
    return APIClient().post("/login", {"username": DEMO_EMAIL, "password": password})


def assert_votes_unique():
    pairs = Vote.objects.values("user", "post").annotate(n=Count("*")).filter(n__gt=1)
    assert not pairs.exists()


def test_seeds_the_requested_counts_and_reports_them():
    output = seed()

    assert demo_users().count() == 5
    assert User.objects.filter(email=DEMO_EMAIL).exists()
    assert Post.objects.count() == 20
    assert Vote.objects.count() == 30
    assert_votes_unique()
    assert "20 created" in output and "30 created" in output
    assert DEMO_EMAIL in output and DEMO_PASSWORD in output


def test_seeded_posts_are_realistic_and_votes_land_on_published_posts():
    seed(posts=200, votes=100)

    account = User.objects.get(email=DEMO_EMAIL)
    assert account.posts.count() == DEMO_ACCOUNT_POSTS
    assert account.posts.filter(published=False).count() >= 1  # a draft to show off visibility
    assert Post.objects.filter(published=False).exists()
    assert Post.objects.filter(published=True).count() > 150
    oldest = timezone.now() - timedelta(days=366)
    assert not Post.objects.filter(created_at__lt=oldest).exists()
    assert Post.objects.exclude(title="").count() == 200
    assert not Vote.objects.filter(post__published=False).exists()
    assert not Vote.objects.exclude(user__email__startswith="demo").exists()


def test_demo_account_logs_in_through_the_login_form():
    seed()

    response = login()

    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


def test_every_demo_user_shares_the_demo_password():
    seed()

    hashes = set(demo_users().values_list("password", flat=True))
    response = APIClient().post(
        "/login", {"username": "demo-user-3@example.com", "password": DEMO_PASSWORD}
    )

    assert len(hashes) == 1  # hashed once, not once per row
    assert response.status_code == 200, response.content


def test_rerun_creates_nothing_and_resets_the_demo_password():
    seed()
    account = User.objects.get(email=DEMO_EMAIL)
    account.set_password("someone-changed-it")
    account.is_active = False
    account.save()
    assert login().status_code != 200

    output = seed()

    assert output.count(" 0 created") == output.count(" created ") >= 3  # every kind of row
    assert User.objects.filter(email=DEMO_EMAIL).count() == 1
    assert (demo_users().count(), Post.objects.count(), Vote.objects.count()) == (5, 20, 30)
    assert login().status_code == 200


def test_rerun_with_larger_numbers_tops_up():
    seed()

    seed(users=7, posts=26, votes=45, seed=2)

    assert demo_users().count() == 7
    assert Post.objects.count() == 26
    assert Vote.objects.count() == 45
    assert_votes_unique()


def test_more_votes_than_pairs_gives_every_pair_once_and_says_so():
    seed(users=2, posts=12, votes=5)  # pre-existing votes: the re-run must step around them
    members = demo_users().count() + 1
    published = Post.objects.filter(published=True).count()

    output = seed(users=2, posts=12, votes=10_000, batch_size=7)

    assert Vote.objects.count() == members * published
    assert_votes_unique()
    assert f"Stopped at {members * published} votes" in output


def test_other_peoples_posts_and_votes_do_not_count():
    stranger = UserFactory()
    Post.objects.create(owner=stranger, title="Mine", content="Not demo data.")

    seed()

    assert Post.objects.filter(owner__email__startswith="demo").count() == 20
    assert Post.objects.count() == 21


def test_same_seed_gives_the_same_posts():
    seed(seed=42)
    first = list(Post.objects.order_by("pk").values_list("title", "content", "published"))
    Post.objects.all().delete()

    seed(seed=42)

    assert list(Post.objects.order_by("pk").values_list("title", "content", "published")) == first


@pytest.mark.django_db(transaction=True)
def test_runs_outside_a_transaction_with_a_batch_per_transaction():
    # The real command line: no outer transaction, so each batch commits and PostgreSQL vacuums.
    seed(batch_size=4)
    seed(batch_size=4)

    assert (demo_users().count(), Post.objects.count(), Vote.objects.count()) == (5, 20, 30)
    assert login().status_code == 200


@pytest.mark.parametrize("option", ["users", "posts", "votes"])
def test_negative_counts_are_refused(option):
    with pytest.raises(CommandError, match=f"--{option}"):
        seed(**{option: -1})
