"""Comments in the admin: found by post, author or words; moderation adds hide and unhide."""

from django.contrib import admin

from core.admin import ReadOnlyModelAdmin

from .models import Comment


@admin.register(Comment)
class CommentAdmin(ReadOnlyModelAdmin):
    """Read-only: members write comments through the API; staff hide them (moderation)."""

    list_display = ["id", "post", "author", "short_content", "hidden_at", "created_at"]
    list_filter = [("hidden_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["content", "author__email", "post__title"]
    list_select_related = ["post", "author"]
    raw_id_fields = ["post", "author", "parent"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        # The API's visibility rule: staff see every comment on the posts they see.
        return Comment.objects.visible_to(request.user).order_by("-created_at", "-id")

    @admin.display(description="Content")
    def short_content(self, comment):
        return comment.content if len(comment.content) <= 80 else comment.content[:79] + "…"
