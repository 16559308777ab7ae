"""The graph in the admin: read-only follows and blocks, on a member's page and on their own."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.tests.factories import BlockFactory, UserFactory
from moderation.groups import MODERATORS

from .factories import FollowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(db):
    moderator = UserFactory(email="mod@example.com", is_staff=True)
    moderator.groups.add(Group.objects.get(name=MODERATORS))
    client = Client()
    client.force_login(moderator)
    return client


def test_a_moderator_sees_whom_a_member_blocked_and_who_blocked_them(moderator):
    member = UserFactory(email="reported@example.com")
    BlockFactory(blocker=member, blocked=UserFactory(email="target@example.com"))
    BlockFactory(blocker=UserFactory(email="victim@example.com"), blocked=member)
    FollowFactory(follower=member, followee=UserFactory(email="idol@example.com"))
    FollowFactory(follower=UserFactory(email="fan@example.com"), followee=member)

    page = moderator.get(f"/admin/accounts/user/{member.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    for email in ("target@", "victim@", "idol@", "fan@"):
        assert email in html, email
    assert "Who blocked this member" in html and "Blocked by this member" in html


def test_the_users_list_shows_follow_counts(moderator):
    member = UserFactory(email="popular@example.com")
    FollowFactory.create_batch(2, followee=member)

    page = moderator.get("/admin/accounts/user/", {"q": "popular@"})

    (row,) = page.context["cl"].result_list
    assert (row.follow_counts.followers, row.follow_counts.following) == (2, 0)


@pytest.mark.parametrize("path", ["/admin/social/follow/", "/admin/accounts/block/"])
def test_follows_and_blocks_are_read_only_for_staff(moderator, path):
    FollowFactory()
    BlockFactory()

    listing = moderator.get(path)
    adding = moderator.get(f"{path}add/")

    assert listing.status_code == 200
    assert adding.status_code == 403
    assert len(listing.context["cl"].result_list) == 1


def test_a_member_page_lists_only_the_newest_fifty_followers(moderator):
    member = UserFactory()
    follows = FollowFactory.create_batch(55, followee=member)

    html = moderator.get(f"/admin/accounts/user/{member.pk}/change/").content.decode()

    assert follows[-1].follower.email in html
    assert follows[0].follower.email not in html  # the oldest five are on the Follows page


def test_a_superuser_still_saves_a_member_page_with_the_graph_on_it(db):
    root = UserFactory(is_staff=True, is_superuser=True)
    member = UserFactory(email="member@example.com")
    FollowFactory(followee=member)
    client = Client()
    client.force_login(root)

    response = client.post(
        f"/admin/accounts/user/{member.pk}/change/",
        {"email": "renamed@example.com", "is_active": "on"},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == "renamed@example.com"
