"""Notifications in the admin, read-only: they are written by the actions they tell of."""

from django.contrib import admin

from core.admin import ReadOnlyModelAdmin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = [
        "id",
        "recipient",
        "type",
        "actor",
        "post_id",
        "comment_id",
        "read",
        "created_at",
    ]
    list_filter = ["type", "read", "created_at"]
    search_fields = ["recipient__email", "actor__email"]
    list_select_related = ["recipient", "actor"]
    raw_id_fields = ["recipient", "actor", "post", "comment"]
