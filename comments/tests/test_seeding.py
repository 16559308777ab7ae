"""seed_demo --comments: comments and replies on public posts, counts kept, re-runs top up."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q

from comments.models import Comment
from posts.models import Post

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = StringIO()
    defaults = {"users": 6, "posts": 20, "votes": 10, "follows": 0, "seed": 1, "no_progress": True}
    call_command("seed_demo", stdout=out, stderr=StringIO(), **{**defaults, **options})
    return out.getvalue()


def test_comments_land_on_public_posts_with_replies_on_their_parents_post_and_exact_counts():
    output = seed(comments=50)

    assert Comment.objects.count() == 50
    assert Comment.objects.filter(parent__isnull=False).count() == 10  # a fifth are replies
    assert not Comment.objects.filter(~Q(parent__post=F("post")), parent__isnull=False).exists()
    assert not Comment.objects.exclude(post__in=Post.objects.public()).exists()
    counted = dict(
        Comment.objects.order_by()
        .values_list("post")
        .annotate(n=Count("*"))
        .values_list("post", "n")
    )
    for post in Post.objects.all():
        assert post.comment_count == counted.get(post.pk, 0)
    assert "comments" in output and "50 created" in output


def test_a_second_run_adds_only_what_is_missing():
    seed(comments=20)
    seed(comments=20)
    assert Comment.objects.count() == 20

    seed(comments=30)

    assert Comment.objects.count() == 30
    assert sum(Post.objects.values_list("comment_count", flat=True)) == 30


def test_a_negative_number_is_refused():
    with pytest.raises(CommandError, match="--comments"):
        seed(comments=-1)
