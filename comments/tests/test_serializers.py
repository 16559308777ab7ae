"""comment_row_out(), which renders a thread on a cache miss, gives CommentSerializer's output
exactly, for every kind of comment."""

import json

import pytest
from django.db.models import F
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from accounts.tests.factories import UserFactory
from comments.models import Comment
from comments.serializers import ROW_FIELDS, CommentSerializer, comment_row_out
from moderation.services import comment_hide

from .factories import CommentFactory

pytestmark = pytest.mark.django_db


def rendered(data) -> bytes:
    return JSONRenderer().render(data)


def test_each_kind_of_comment_renders_byte_for_byte_as_the_serializer_does():
    parent = CommentFactory(content="A plain comment, with unicode: café ✓")
    reply = CommentFactory.reply_to(parent, content="A reply")
    edited = CommentFactory(post=parent.post)
    Comment.objects.filter(pk=edited.pk).update(edited_at=timezone.now(), content="Edited")
    hidden = CommentFactory(post=parent.post)
    comment_hide(comment=hidden, moderator=UserFactory(is_staff=True), reason="rude words")

    rows = (
        Comment.objects.annotate(
            author_email=F("author__email"), author_created_at=F("author__created_at")
        )
        .order_by("id")
        .values(*ROW_FIELDS)
    )
    comments = Comment.objects.select_related("author").order_by("id")

    expected = [CommentSerializer(comment).data for comment in comments]
    assert [rendered(comment_row_out(row)) for row in rows] == [rendered(e) for e in expected]
    by_id = {row["id"]: json.loads(rendered(comment_row_out(row))) for row in rows}
    assert by_id[reply.pk]["parent_id"] == parent.pk
    assert by_id[edited.pk]["edited_at"] is not None
    assert by_id[hidden.pk]["hidden"] is True
    assert by_id[hidden.pk]["hidden_reason"] == "rude words"
    assert "hidden" not in by_id[parent.pk]
