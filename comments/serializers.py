"""Wire shapes of comments."""

from rest_framework import serializers

from accounts.serializers import UserSerializer
from core.rendering import iso_datetime
from core.serializers import FormBlanksMixin, StrictCharField

from .models import CONTENT_MAX, Comment

_ID_RANGE = {"min_value": -(2**63), "max_value": 2**63 - 1}


class CommentSerializer(serializers.ModelSerializer):
    """The `Comment` shape. Post, parent and author come from the path, the body's `parent_id`
    and the token; only `content` is written through it."""

    content = StrictCharField(min_length=1, max_length=CONTENT_MAX)
    author = UserSerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "post_id", "parent_id", "content", "created_at", "edited_at", "author"]
        read_only_fields = ["id", "post_id", "parent_id", "created_at", "edited_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.hidden_at is not None:
            # Only its author, the post's owner and staff ever receive a hidden comment.
            data["hidden"] = True
            data["hidden_reason"] = instance.hidden_reason
        return data


# What comment_row_out() reads: a `.values()` row of a comment with its author's columns.
ROW_FIELDS = (
    "id",
    "post_id",
    "parent_id",
    "content",
    "created_at",
    "edited_at",
    "author_id",
    "author_email",
    "author_created_at",
    "hidden_at",
    "hidden_reason",
)


def comment_row_out(row: dict) -> dict:
    """CommentSerializer's output for a ROW_FIELDS row, without its per-field work (a test
    keeps the two equal): a thread's cache miss renders every comment of it."""
    out = {
        "id": row["id"],
        "post_id": row["post_id"],
        "parent_id": row["parent_id"],
        "content": row["content"],
        "created_at": iso_datetime(row["created_at"]),
        "edited_at": None if row["edited_at"] is None else iso_datetime(row["edited_at"]),
        "author": {
            "id": row["author_id"],
            "email": row["author_email"],
            "created_at": iso_datetime(row["author_created_at"]),
        },
    }
    if row["hidden_at"] is not None:
        out["hidden"] = True
        out["hidden_reason"] = row["hidden_reason"]
    return out


class CommentCreateSerializer(FormBlanksMixin, CommentSerializer):
    """A new comment: `content`, and `parent_id` for a reply."""

    parent_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The comment this one answers: a comment on the same post that you can see.",
        **_ID_RANGE,
    )

    class Meta(CommentSerializer.Meta):
        read_only_fields = ["id", "post_id", "created_at", "edited_at"]


class CommentEditSerializer(CommentSerializer):
    """An edit's body: `content`, required although the method is PATCH.

    drf-spectacular describes a PATCH body as partial (every field optional), as DRF's
    `partial_update` reads it; this view reads a whole one, so it is not partial, ever.
    """

    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value) -> None:
        pass  # set by DRF's constructor and by the schema generator for a PATCH
