"""seed_demo: the bulk-loaded follows, likes and comments get the notifications they would have
made through the API, once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from comments.models import Comment
from notifications.models import Notification
from posts.models import Vote
from social.models import Follow

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = StringIO()
    defaults = {"users": 6, "posts": 20, "votes": 30, "follows": 2, "comments": 30, "seed": 1}
    call_command(
        "seed_demo", stdout=out, stderr=StringIO(), no_progress=True, **{**defaults, **options}
    )
    return out.getvalue()


def test_each_seeded_action_tells_whom_the_api_would_have_told():
    output = seed()

    notes = Notification.objects.all()
    assert not notes.filter(actor=F("recipient")).exists()
    assert notes.filter(type="follow").count() == Follow.objects.count()
    likes = Vote.objects.exclude(user=F("post__owner"))
    assert notes.filter(type="vote").count() == likes.count()
    for vote in likes:
        assert notes.filter(type="vote", actor=vote.user_id, post=vote.post_id).count() == 1
    replies = Comment.objects.filter(parent__isnull=False).exclude(author=F("parent__author"))
    assert notes.filter(type="reply").count() == replies.count()
    for comment in Comment.objects.select_related("post", "parent"):
        told = set(notes.filter(comment=comment).values_list("recipient_id", flat=True))
        expected = set()
        if comment.parent and comment.parent.author_id != comment.author_id:
            expected.add(comment.parent.author_id)
        if comment.post.owner_id != comment.author_id:
            expected.add(comment.post.owner_id)
        assert told == expected
    assert "notifications" in output


def test_a_second_run_adds_none_twice():
    seed()
    before = Notification.objects.count()

    seed()

    assert Notification.objects.count() == before > 0
