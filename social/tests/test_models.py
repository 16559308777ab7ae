"""The database keeps the graph right, whatever writes: one row per pair, never oneself."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Block
from accounts.tests.factories import UserFactory
from social.models import Follow, FollowCounts

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model,fields", [(Follow, ("follower", "followee")), (Block, ("blocker", "blocked"))]
)
def test_one_row_per_pair(model, fields):
    ann, bob = UserFactory(), UserFactory()
    model.objects.create(**dict(zip(fields, (ann, bob), strict=True)))

    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**dict(zip(fields, (ann, bob), strict=True)))

    assert model.objects.count() == 1
    model.objects.create(**dict(zip(fields, (bob, ann), strict=True)))  # the other way is its own


@pytest.mark.parametrize(
    "model,fields", [(Follow, ("follower", "followee")), (Block, ("blocker", "blocked"))]
)
def test_never_oneself(model, fields):
    ann = UserFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**dict(zip(fields, (ann, ann), strict=True)))

    assert not model.objects.exists()


def test_counts_leave_out_suspended_members_and_recount_from_the_rows():
    ann, bob, cid = UserFactory(), UserFactory(), UserFactory(is_active=False)
    Follow.objects.create(follower=ann, followee=bob)
    Follow.objects.create(follower=cid, followee=bob)  # cid is suspended: not counted
    Follow.objects.create(follower=ann, followee=cid)

    counts = {c.user_id: (c.followers, c.following) for c in FollowCounts.objects.all()}
    assert counts[bob.pk] == (1, 0) and counts[ann.pk] == (0, 1)

    FollowCounts.objects.all().update(followers=99, following=99)
    FollowCounts.objects.recount([ann.pk, bob.pk, cid.pk])

    counts = {c.user_id: (c.followers, c.following) for c in FollowCounts.objects.all()}
    assert counts == {ann.pk: (0, 1), bob.pk: (1, 0), cid.pk: (1, 1)}
