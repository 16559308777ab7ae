"""Wire shapes of posts and votes, in the original API's format."""

from django.db import models
from rest_framework import serializers

from accounts.serializers import UserSerializer

from .models import Post


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers: `"title": 5` is a client's mistake, not the title "5"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class PostSerializer(serializers.ModelSerializer):
    """The `Post` shape. The owner comes from the request, never from the body."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }

    # An explicit default: PUT without `published` publishes, as in the original.
    published = serializers.BooleanField(default=True)
    owner = UserSerializer(read_only=True)

    class Meta:
        model = Post
        fields = ["id", "title", "content", "published", "created_at", "owner_id", "owner"]
        read_only_fields = ["id", "created_at", "owner_id"]


class PostOutSerializer(serializers.Serializer):
    """The `PostOut` shape: `{"Post": Post, "votes": int}` (capital P is the wire format)."""

    votes = serializers.IntegerField(source="vote_count", read_only=True)

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


class PostSearchSerializer(serializers.Serializer):
    search = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", trim_whitespace=False
    )


class VoteSerializer(serializers.Serializer):
    post_id = serializers.IntegerField(min_value=-(2**63), max_value=2**63 - 1)
    dir = serializers.ChoiceField(choices=[0, 1])
