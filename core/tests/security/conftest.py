"""Fixtures of the security tests: a victim with a post, a vote and a report, and an attacker."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import authorize
from moderation.tests.factories import ReportFactory
from posts.tests.factories import PostFactory, VoteFactory


@pytest.fixture
def victim(db):
    return UserFactory()


@pytest.fixture
def victim_post(victim):
    return PostFactory(owner=victim, title="Victim's title", content="Victim's words")


@pytest.fixture
def victim_vote(victim, victim_post):
    return VoteFactory(user=victim, post=victim_post)


@pytest.fixture
def victim_report(victim, victim_post):
    return ReportFactory(reporter=victim, post=victim_post, reason="Victim's reason")


@pytest.fixture
def attacker(db):
    return UserFactory()


@pytest.fixture
def attacker_client(attacker):
    """A client holding the attacker's own, perfectly valid token."""
    client = authorize(APIClient(), attacker)
    client.raise_request_exception = False
    return client
