"""Wire shapes of posts and votes, in the original API's format."""

from django.db import models
from rest_framework import serializers
from rest_framework.utils import html

from accounts.serializers import UserSerializer
from core.rendering import iso_datetime
from core.serializers import FormBlanksMixin, StrictCharField

from .models import Post


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField taking what the schema's boolean says: JSON's `true` and `false`, or a
    form's `true` and `false` (any case: a form carries text, and Python's requests writes
    `True`). DRF would also read "0", "yes", "on" and 1, which a validator trusting the schema
    refuses."""

    FORM_VALUES = {"true": True, "false": False}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and html.is_html_input(self.parent.initial_data):
            if data.lower() in self.FORM_VALUES:
                return self.FORM_VALUES[data.lower()]
        self.fail("invalid", input=data)


class PostSerializer(FormBlanksMixin, serializers.ModelSerializer):
    """The `Post` shape. The owner comes from the request, never from the body."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }

    # An explicit default: PUT without `published` publishes, as in the original.
    published = StrictBooleanField(default=True)
    owner = UserSerializer(read_only=True)

    class Meta:
        model = Post
        fields = ["id", "title", "content", "published", "created_at", "owner_id", "owner"]
        read_only_fields = ["id", "created_at", "owner_id"]


class PostOutSerializer(serializers.Serializer):
    """The `PostOut` shape: `{"Post": Post, "votes": int, "voted": bool, "comments": int}`
    (capital P is the
    wire format), for the schema. Responses are built by `post_out()`, which a test keeps
    equal to this serializer's output, byte for byte."""

    votes = serializers.IntegerField(source="vote_count", read_only=True)
    voted = serializers.BooleanField(read_only=True, help_text="You liked this post.")
    comments = serializers.IntegerField(
        source="comment_count",
        read_only=True,
        help_text="Its comments that no moderator hid (a hidden one still shows to its author, "
        "the post's owner and staff, but is not counted).",
    )

    def get_fields(self):
        # "Post" cannot be written as a class attribute name that serializers accept as-is.
        fields = super().get_fields()
        fields["Post"] = PostSerializer(source="*", read_only=True)
        return {"Post": fields.pop("Post"), **fields}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.hidden_at is not None:
            # Only the owner and staff ever receive a hidden post; tell them it is hidden.
            data["hidden"] = True
            data["hidden_reason"] = instance.hidden_reason
        return data


def post_entry(row: dict) -> dict:
    """What the read cache keeps of a post, from a `.values()` row (posts.entries).

    Its `Post` shape is built once here, not by a serializer on every request; the rest says
    who may see it.
    """
    hidden = row["hidden_at"] is not None
    return {
        "id": row["id"],
        "post": {
            "id": row["id"],
            "title": row["title"],
            "content": row["content"],
            "published": row["published"],
            "created_at": iso_datetime(row["created_at"]),
            "owner_id": row["owner_id"],
            "owner": {
                "id": row["owner_id"],
                "email": row["owner_email"],
                "created_at": iso_datetime(row["owner_created_at"]),
            },
        },
        "votes": row["vote_count"],
        "comments": row["comment_count"],
        "hidden_reason": row["hidden_reason"] if hidden else None,
        "visibility": {
            "owner_id": row["owner_id"],
            "published": row["published"],
            "hidden": hidden,
        },
    }


def post_out(entry: dict, *, voted: bool) -> dict:
    """`PostOut` for one caller: what PostOutSerializer gives, without its per-field work."""
    out = {"Post": entry["post"], "votes": entry["votes"], "voted": voted}
    out["comments"] = entry["comments"]
    if entry["visibility"]["hidden"]:
        # Only the owner and staff ever receive a hidden post; tell them it is hidden.
        out["hidden"] = True
        out["hidden_reason"] = entry["hidden_reason"]
    return out


SEARCH_MAX_LENGTH = 200


class PostSearchSerializer(serializers.Serializer):
    search = serializers.CharField(
        max_length=SEARCH_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
    )


class VoteSerializer(serializers.Serializer):
    post_id = serializers.IntegerField(min_value=-(2**63), max_value=2**63 - 1)
    dir = serializers.ChoiceField(choices=[0, 1])
