"""Post moderation in the admin: find posts, see their votes and reports, hide or unhide them."""

from django.contrib import admin
from django.db.models import OuterRef

from core.db import SubqueryCount
from moderation import services as moderation
from moderation.admin import ModerationActionForm, apply_to_selected
from moderation.models import Report

from .models import Post, Vote


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    action_form = ModerationActionForm
    list_display = [
        "title",
        "owner",
        "published",
        "is_hidden",
        "vote_count",
        "report_count",
        "created_at",
    ]
    list_filter = ["published", ("hidden_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["title", "content", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at", "hidden_at", "hidden_by", "hidden_reason", "vote_count"]
    date_hierarchy = "created_at"
    actions = ["hide", "unhide"]

    def get_queryset(self, request):
        # The API's visibility rule: staff see hidden posts, but not other people's drafts.
        return (
            Post.objects.visible_to(request.user)
            .annotate(
                report_count=SubqueryCount(Report.objects.filter(post=OuterRef("pk")).values("pk")),
            )
            .newest_first()
        )

    @admin.display(description="Hidden", boolean=True, ordering="hidden_at")
    def is_hidden(self, post):
        return post.hidden_at is not None

    @admin.display(description="Reports", ordering="report_count")
    def report_count(self, post):
        return post.report_count

    def has_hide_permission(self, request):
        return request.user.has_perm("posts.hide_post")

    @admin.action(description="Hide selected posts", permissions=["hide"])
    def hide(self, request, queryset):
        apply_to_selected(
            self,
            request,
            queryset,
            lambda post, moderator, reason: moderation.post_hide(
                post=post, moderator=moderator, reason=reason
            ),
            done="Hid {count} post(s).",
        )

    @admin.action(description="Unhide selected posts", permissions=["hide"])
    def unhide(self, request, queryset):
        apply_to_selected(
            self,
            request,
            queryset,
            lambda post, moderator, reason: moderation.post_unhide(
                post=post, moderator=moderator, reason=reason
            ),
            done="Unhid {count} post(s).",
        )


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    """Read-only: votes change only through the API."""

    list_display = ["user", "post", "created_at"]
    list_select_related = ["user", "post"]
    search_fields = ["user__email", "post__title"]
    list_filter = ["created_at"]
    raw_id_fields = ["user", "post"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
