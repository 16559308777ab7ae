"""Posts and votes in the admin, and each member's posts and votes on the user admin.

Moderation extends these admins with its reports and its hide and unhide actions.
"""

from django.contrib import admin
from django.db.models import F, OuterRef
from django.db.models.functions import Coalesce

from accounts import admin as accounts_admin
from accounts.models import User
from core.admin import ReadOnlyModelAdmin
from core.db import SubqueryCount

from .models import Post, Vote


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "owner",
        "published",
        "is_hidden",
        "vote_count",
        "comment_count",
        "created_at",
    ]
    list_filter = ["published", ("hidden_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["title", "content", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = [
        "created_at",
        "hidden_at",
        "hidden_by",
        "hidden_reason",
        "vote_count",
        "comment_count",
    ]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        # The API's visibility rule: staff see hidden posts, but not other people's drafts.
        return Post.objects.visible_to(request.user).newest_first()

    @admin.display(description="Hidden", boolean=True, ordering="hidden_at")
    def is_hidden(self, post):
        return post.hidden_at is not None


@admin.register(Vote)
class VoteAdmin(ReadOnlyModelAdmin):
    """Read-only: votes change only through the API."""

    list_display = ["user", "post", "created_at"]
    list_select_related = ["user", "post"]
    search_fields = ["user__email", "post__title"]
    list_filter = ["created_at"]
    raw_id_fields = ["user", "post"]


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(accounts_admin.UserAdmin):
    """Each member's posts (their kept counts) and votes, in the changelist's one query."""

    list_display = [*accounts_admin.UserAdmin.list_display, "post_count", "vote_count"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                post_count=Coalesce(
                    F("post_counts__public") + F("post_counts__hidden") + F("post_counts__drafts"),
                    0,
                ),
                vote_count=SubqueryCount(Vote.objects.filter(user=OuterRef("pk")).values("pk")),
            )
        )

    @admin.display(description="Posts", ordering="post_count")
    def post_count(self, user):
        return user.post_count

    @admin.display(description="Votes", ordering="vote_count")
    def vote_count(self, user):
        return user.vote_count
