"""The graph in the admin, read-only: each member's follows and blocks on their user page.

Follows and blocks change only through the API (the members' own choices); staff see them,
counts and lists, and a moderator sees whom a reported member blocked or was blocked by.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.models import Block, User
from core.admin import ReadOnlyModelAdmin
from posts import admin as posts_admin

from .models import Follow

NEWEST_SHOWN = 50  # members per list on a member's page; the Follows and Blocks pages hold all


def _members(rows, member) -> str:
    """An HTML list of the members in `rows`, each a link to their admin page."""
    items = format_html_join(
        "",
        '<li><a href="{}">{}</a> <span class="quiet">since {}</span></li>',
        (
            (
                reverse("admin:accounts_user_change", args=[member(row).pk]),
                member(row),
                row.created_at,
            )
            for row in rows
        ),
    )
    return format_html("<ul>{}</ul>", items) if items else "none"


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(posts_admin.UserAdmin):
    """Members with their follow counts; their follows and blocks, read-only, on their page."""

    list_display = [*posts_admin.UserAdmin.list_display, "followers", "following"]
    graph_fields = ["followers_list", "following_list", "blocks_made_list", "blocks_received_list"]
    readonly_fields = [*posts_admin.UserAdmin.readonly_fields, *graph_fields]
    fieldsets = [
        *posts_admin.UserAdmin.fieldsets,
        (f"Social graph (the {NEWEST_SHOWN} newest of each)", {"fields": graph_fields}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("follow_counts")

    @admin.display(description="Followers", ordering="follow_counts__followers")
    def followers(self, user):
        counts = getattr(user, "follow_counts", None)
        return counts.followers if counts else 0

    @admin.display(description="Following", ordering="follow_counts__following")
    def following(self, user):
        counts = getattr(user, "follow_counts", None)
        return counts.following if counts else 0

    @admin.display(description="Followed by")
    def followers_list(self, user):
        rows = user.follows_received.select_related("follower").order_by("-created_at", "-id")
        return _members(rows[:NEWEST_SHOWN], lambda row: row.follower)

    @admin.display(description="Follows")
    def following_list(self, user):
        rows = user.follows_made.select_related("followee").order_by("-created_at", "-id")
        return _members(rows[:NEWEST_SHOWN], lambda row: row.followee)

    @admin.display(description="Blocked by this member")
    def blocks_made_list(self, user):
        rows = user.blocks_made.select_related("blocked").order_by("-created_at", "-id")
        return _members(rows[:NEWEST_SHOWN], lambda row: row.blocked)

    @admin.display(description="Who blocked this member")
    def blocks_received_list(self, user):
        rows = user.blocks_received.select_related("blocker").order_by("-created_at", "-id")
        return _members(rows[:NEWEST_SHOWN], lambda row: row.blocker)


@admin.register(Follow)
class FollowAdmin(ReadOnlyModelAdmin):
    """Read-only: members follow and unfollow through the API."""

    list_display = ["follower", "followee", "created_at"]
    list_select_related = ["follower", "followee"]
    search_fields = ["follower__email", "followee__email"]
    list_filter = ["created_at"]
    raw_id_fields = ["follower", "followee"]


@admin.register(Block)
class BlockAdmin(ReadOnlyModelAdmin):
    """Read-only: whom a member blocked and who blocked them (a moderator's question)."""

    list_display = ["blocker", "blocked", "created_at"]
    list_select_related = ["blocker", "blocked"]
    search_fields = ["blocker__email", "blocked__email"]
    list_filter = ["created_at"]
    raw_id_fields = ["blocker", "blocked"]
