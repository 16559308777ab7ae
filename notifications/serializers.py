"""Wire shapes of notifications."""

from rest_framework import serializers

from accounts.serializers import UserSerializer
from core.serializers import FormBlanksMixin

from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    actor = UserSerializer(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "type", "actor", "post_id", "comment_id", "created_at", "read"]
        read_only_fields = fields


class MarkReadSerializer(FormBlanksMixin, serializers.Serializer):
    """Which notifications to mark read."""

    up_to_id = serializers.IntegerField(
        required=False,
        min_value=-(2**63),
        max_value=2**63 - 1,
        help_text="Mark read your notifications with this id or lower; all of them when absent.",
    )


class UnreadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()
