"""Kept counts (Post.vote_count, PostCounts, PostTotals) stay equal to counting the rows, by
every path a write can take: the API, moderation, the admin, cascades, and many at once."""

from collections import Counter

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import authorize, login
from core.tests.concurrency import run_at_once
from moderation import services as moderation
from posts.models import Post, PostCounts, PostTotals, Vote, can_see
from posts.services import post_counts_rebuild

from .factories import PostFactory, VoteFactory

pytestmark = pytest.mark.django_db


def counted() -> dict:
    """What the kept counts must say, counted from the rows."""
    by_owner = (
        Post.objects.order_by()
        .values("owner")
        .annotate(
            public=Count("pk", filter=Q(published=True, hidden_at__isnull=True)),
            hidden=Count("pk", filter=Q(published=True, hidden_at__isnull=False)),
            drafts=Count("pk", filter=Q(published=False)),
        )
    )
    owners = {row.pop("owner"): row for row in by_owner}
    return {
        "votes": {post.pk: post.votes.count() for post in Post.objects.all()},
        "owners": owners,
        "totals": {
            "public": sum(row["public"] for row in owners.values()),
            "hidden": sum(row["hidden"] for row in owners.values()),
        },
    }


def kept() -> dict:
    totals = PostTotals.objects.current()
    return {
        "votes": dict(Post.objects.values_list("pk", "vote_count")),
        "owners": {
            row.pop("owner"): row
            for row in PostCounts.objects.values("owner", "public", "hidden", "drafts")
            if row["public"] or row["hidden"] or row["drafts"]  # a member whose posts all went
        },
        "totals": {"public": totals.public, "hidden": totals.hidden},
    }


def assert_exact():
    assert kept() == counted()


def test_posts_and_votes_made_by_the_models_are_counted():
    owner, voter = UserFactory.create_batch(2)
    post = PostFactory(owner=owner)
    PostFactory(owner=owner, published=False)
    VoteFactory.create_batch(3, post=post)
    VoteFactory(user=voter, post=post)

    assert_exact()
    assert kept()["owners"][owner.pk] == {"public": 1, "hidden": 0, "drafts": 1}
    assert kept()["votes"][post.pk] == 4


def test_every_api_write_keeps_the_counts(user, auth_client):
    other = authorize(APIClient(), UserFactory())
    draft = auth_client.post("/posts/", {"title": "d", "content": "c", "published": False}).json()
    shown = auth_client.post("/posts/", {"title": "s", "content": "c"}).json()
    theirs = other.post("/posts/", {"title": "t", "content": "c"}).json()
    assert_exact()

    auth_client.patch(f"/posts/{draft['id']}", {"published": True})  # a draft published
    auth_client.put(f"/posts/{shown['id']}", {"title": "s", "content": "c", "published": False})
    assert_exact()
    auth_client.put(f"/posts/{shown['id']}", {"title": "s", "content": "again"})  # publishes
    for client in (auth_client, other):
        client.post("/vote/", {"post_id": theirs["id"], "dir": 1})
    auth_client.post("/vote/", {"post_id": theirs["id"], "dir": 1})  # 409, counted once
    assert kept()["votes"][theirs["id"]] == 2
    auth_client.post("/vote/", {"post_id": theirs["id"], "dir": 0})
    auth_client.post("/vote/", {"post_id": theirs["id"], "dir": 0})  # 404, counted once
    assert_exact()
    assert kept()["votes"][theirs["id"]] == 1

    auth_client.delete(f"/posts/{draft['id']}")
    other.delete(f"/posts/{theirs['id']}")
    assert_exact()
    assert kept()["totals"] == {"public": 1, "hidden": 0}


def test_hiding_and_unhiding_move_a_post_between_public_and_hidden(user):
    moderator = UserFactory(is_staff=True)
    post = PostFactory(owner=user)
    draft = PostFactory(owner=user, published=False)

    moderation.post_hide(post=post, moderator=moderator, reason="spam")
    moderation.post_hide(post=draft, moderator=moderator, reason="spam")  # still only a draft
    assert_exact()
    assert kept()["owners"][user.pk] == {"public": 0, "hidden": 1, "drafts": 1}

    moderation.post_hide(post=post, moderator=moderator)  # twice: nothing moves again
    moderation.post_unhide(post=post, moderator=moderator)
    assert_exact()
    assert kept()["totals"] == {"public": 1, "hidden": 0}


def test_a_stale_instance_moves_the_counts_from_what_the_row_is_now(user):
    """An edit through an instance loaded before a moderator hid the post."""
    post = PostFactory(owner=user)
    stale = Post.objects.get(pk=post.pk)
    moderation.post_hide(post=post, moderator=UserFactory(is_staff=True))

    stale.published = False
    stale.save(update_fields=["published"])
    assert_exact()
    stale.delete()
    assert_exact()


def test_admin_edits_and_deletes_keep_the_counts(user):
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    post = PostFactory(owner=user)
    other = PostFactory()
    form = {"title": post.title, "content": post.content, "owner": user.pk}  # unticked: a draft

    response = admin.post(f"/admin/posts/post/{post.pk}/change/", form)
    assert response.status_code == 302
    assert not Post.objects.get(pk=post.pk).published
    assert_exact()

    response = admin.post(
        "/admin/posts/post/",
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Post.objects.filter(pk=other.pk).exists()
    assert_exact()


def test_deleting_a_member_takes_their_posts_and_likes_out_of_every_count():
    leaving, staying = UserFactory.create_batch(2)
    theirs = PostFactory(owner=leaving)
    PostFactory(owner=leaving, published=False)
    mine = PostFactory(owner=staying)
    VoteFactory(user=leaving, post=mine)
    VoteFactory(user=staying, post=theirs)

    leaving.delete()

    assert_exact()
    assert kept()["votes"] == {mine.pk: 0}
    assert kept()["totals"] == {"public": 1, "hidden": 0}


def test_rebuild_repairs_counts_that_bulk_writes_left_behind(user):
    post = PostFactory(owner=user)
    Post.objects.bulk_create([Post(title="bulk", content="c", owner=user, published=False)])
    Vote.objects.bulk_create([Vote(user=UserFactory(), post=post)])
    assert kept() != counted()

    post_counts_rebuild()

    assert_exact()
    assert kept()["owners"][user.pk] == {"public": 1, "hidden": 0, "drafts": 1}


@pytest.mark.parametrize("viewer", ["anonymous", "owner", "member", "staff", "staff owner"])
@pytest.mark.parametrize("published", [True, False])
@pytest.mark.parametrize("hidden", [True, False])
def test_can_see_is_the_visibility_rule_of_visible_to(viewer, published, hidden):
    owner = UserFactory(is_staff=viewer == "staff owner")
    post = PostFactory(
        owner=owner, published=published, hidden_at=timezone.now() if hidden else None
    )
    user = {
        "anonymous": AnonymousUser(),
        "owner": owner,
        "staff owner": owner,
        "member": UserFactory(),
        "staff": UserFactory(is_staff=True),
    }[viewer]

    in_queryset = Post.objects.visible_to(user).filter(pk=post.pk).exists()
    state = {"owner_id": owner.pk, "published": published, "hidden": hidden}

    assert can_see(user, **state) is in_queryset


# --- many at once: threads with their own connections -------------------------------------------


def client_of(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(APIClient(), user)['access_token']}")
    return client


@pytest.mark.django_db(transaction=True)
def test_members_liking_and_unliking_one_post_at_once_keep_its_count_exact():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency: PostgreSQL")
    post = PostFactory()
    likers = [client_of(user) for user in UserFactory.create_batch(12)]
    unlikers = []
    for user in UserFactory.create_batch(8):
        Vote.objects.create(user=user, post=post)
        unlikers.append(client_of(user))

    def vote(client, direction):
        return lambda: client.post("/vote/", {"post_id": post.pk, "dir": direction}).status_code

    jobs = [vote(c, 1) for c in likers] + [vote(c, 0) for c in unlikers]
    jobs += [vote(c, 0) for c in unlikers]  # each unlike sent twice at once: one is a 404
    statuses = Counter(run_at_once(jobs))

    assert statuses == {201: 20, 404: 8}
    post.refresh_from_db()
    assert post.vote_count == Vote.objects.filter(post=post).count() == 12
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_posts_written_hidden_and_deleted_at_once_keep_every_count_exact():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency: PostgreSQL")
    authors = UserFactory.create_batch(6)
    moderator = UserFactory(is_staff=True)
    doomed = [PostFactory(owner=author) for author in authors]
    clients = [client_of(author) for author in authors]

    def create(client, published):
        body = {"title": "t", "content": "c", "published": published}
        return lambda: client.post("/posts/", body).status_code

    def delete(client, post):
        return lambda: client.delete(f"/posts/{post.pk}").status_code

    def hide_then_unpublish(client, post):
        def job():
            moderation.post_hide(post=post, moderator=moderator, reason="spam")
            return client.patch(f"/posts/{post.pk}", {"published": False}).status_code

        return job

    targets = [PostFactory(owner=author) for author in authors]
    jobs = [create(c, published) for c in clients for published in (True, False, True)]
    jobs += [delete(c, p) for c, p in zip(clients, doomed, strict=True)]
    jobs += [hide_then_unpublish(c, p) for c, p in zip(clients, targets, strict=True)]
    statuses = Counter(run_at_once(jobs))

    assert statuses == {201: 18, 204: 6, 200: 6}
    assert_exact()
    assert kept()["totals"] == {"public": 12, "hidden": 0}
