"""The report queue: moderators resolve, dismiss, or hide the post and resolve."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.urls import reverse
from django.utils.html import format_html

from . import services
from .models import Report, queue_ordering


class ModerationActionForm(ActionForm):
    """The action bar with a reason box, so every moderation action can say why."""

    reason = forms.CharField(required=False, max_length=500, label="Reason")


def action_reason(request) -> str:
    return request.POST.get("reason", "").strip()


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    action_form = ModerationActionForm
    list_display = [
        "id",
        "status",
        "category",
        "post_link",
        "reporter_link",
        "reason",
        "created_at",
    ]
    list_display_links = ["id"]
    list_filter = ["status", "category", "created_at"]
    search_fields = ["reason", "post__title", "reporter__email"]
    list_select_related = ["post", "reporter"]
    readonly_fields = [
        "reporter",
        "post",
        "category",
        "reason",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    ]
    actions = ["resolve", "dismiss", "hide_post_and_resolve"]

    def get_ordering(self, request):
        # Not get_queryset().queue(): the changelist puts the model's Meta.ordering (oldest
        # first, whatever the status) before a queryset's own order_by.
        return queue_ordering()

    def has_add_permission(self, request):
        return False  # members file reports through the API

    @admin.display(description="Post", ordering="post__title")
    def post_link(self, report):
        url = reverse("admin:posts_post_change", args=[report.post_id])
        return format_html('<a href="{}">{}</a>', url, report.post)

    @admin.display(description="Reporter", ordering="reporter__email")
    def reporter_link(self, report):
        url = reverse("admin:accounts_user_change", args=[report.reporter_id])
        return format_html('<a href="{}">{}</a>', url, report.reporter)

    @admin.action(description="Resolve selected reports", permissions=["change"])
    def resolve(self, request, queryset):
        for report in queryset:
            services.report_resolve(
                report=report, moderator=request.user, note=action_reason(request)
            )
        self.message_user(request, f"Resolved {len(queryset)} report(s).", messages.SUCCESS)

    @admin.action(description="Dismiss selected reports", permissions=["change"])
    def dismiss(self, request, queryset):
        for report in queryset:
            services.report_dismiss(
                report=report, moderator=request.user, note=action_reason(request)
            )
        self.message_user(request, f"Dismissed {len(queryset)} report(s).", messages.SUCCESS)

    def has_hide_post_permission(self, request):
        """Closing reports and hiding posts are separate rights; this action needs both."""
        return self.has_change_permission(request) and request.user.has_perm("posts.hide_post")

    @admin.action(description="Hide the post and resolve", permissions=["hide_post"])
    def hide_post_and_resolve(self, request, queryset):
        for report in queryset:
            services.report_hide_post_and_resolve(
                report=report, moderator=request.user, reason=action_reason(request)
            )
        self.message_user(request, f"Hid the posts of {len(queryset)} report(s).", messages.SUCCESS)
