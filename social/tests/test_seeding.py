"""seed_demo --follows: each demo member follows N others, counts kept, re-runs add nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F

from social.models import Follow, FollowCounts

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = StringIO()
    defaults = {"users": 6, "posts": 10, "votes": 10, "seed": 1, "no_progress": True}
    call_command("seed_demo", stdout=out, stderr=StringIO(), **{**defaults, **options})
    return out.getvalue()


def test_each_member_follows_n_distinct_others_and_the_counts_match_the_rows():
    output = seed(follows=3)

    per_member = Follow.objects.values("follower").annotate(n=Count("*"))
    assert {row["n"] for row in per_member} == {3} and len(per_member) == 7  # + the demo account
    assert not Follow.objects.filter(follower=F("followee")).exists()
    for counts in FollowCounts.objects.all():
        assert counts.followers == Follow.objects.filter(followee=counts.user_id).count()
        assert counts.following == Follow.objects.filter(follower=counts.user_id).count()
    assert "follows" in output and "21 created" in output


def test_a_second_run_adds_only_what_is_missing():
    seed(follows=2)
    seed(follows=2)
    assert Follow.objects.count() == 14

    seed(follows=4)

    assert Follow.objects.count() == 28


def test_a_negative_number_is_refused():
    with pytest.raises(CommandError, match="--follows"):
        seed(follows=-1)
