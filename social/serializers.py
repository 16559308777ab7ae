"""Wire shapes of the graph: the `Profile`, and the block acknowledgement."""

from rest_framework import serializers

from accounts.serializers import UserSerializer


class ProfileSerializer(UserSerializer):
    """`User` with counts kept exact, and (with a valid token) how the caller stands with them.

    Responses use `social.selectors.profile_out()`; this class describes them in the schema.
    """

    posts_count = serializers.IntegerField(help_text="Their posts that you can see.")
    followers_count = serializers.IntegerField(help_text="Active members following them.")
    following_count = serializers.IntegerField(help_text="Active members they follow.")
    following = serializers.BooleanField(
        required=False, help_text="You follow them (only with a valid bearer token)."
    )
    followed_by = serializers.BooleanField(
        required=False, help_text="They follow you (only with a valid bearer token)."
    )

    class Meta(UserSerializer.Meta):
        fields = [
            *UserSerializer.Meta.fields,
            "posts_count",
            "followers_count",
            "following_count",
            "following",
            "followed_by",
        ]
        read_only_fields = fields
