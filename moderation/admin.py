"""The report queue, and the moderation actions on the admins of the apps below.

Moderators resolve or dismiss reports, hide posts and comments and suspend members. The posts,
comments and users admins are extended here (and re-registered), so the lower apps never import
moderation.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import OuterRef
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import User
from comments import admin as comments_admin
from comments.models import Comment
from core.db import SubqueryCount
from core.exceptions import DomainError, ForbiddenError
from posts import admin as posts_admin
from posts.models import Post
from social import admin as social_admin

from . import services
from .models import Report, queue_ordering


class ModerationActionForm(ActionForm):
    """The action bar with a reason box, so every moderation action can say why."""

    reason = forms.CharField(required=False, max_length=500, label="Reason")


def action_reason(request) -> str:
    return request.POST.get("reason", "").strip()


def apply_to_selected(modeladmin, request, queryset, service, *, done: str) -> None:
    """Run `service(obj, moderator, reason)` on each selected object, then say how it went.

    `done` is the success message with `{count}`; a refusal (a DomainError, e.g. suspending
    oneself) is shown for its object and does not stop the others.
    """
    reason, count = action_reason(request), 0
    for obj in queryset:
        try:
            service(obj, request.user, reason)
            count += 1
        except DomainError as error:
            modeladmin.message_user(request, error.message, messages.ERROR)
    modeladmin.message_user(request, done.format(count=count), messages.SUCCESS)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    action_form = ModerationActionForm
    list_display = [
        "id",
        "status",
        "category",
        "post_link",
        "comment_link",
        "reporter_link",
        "reason",
        "created_at",
    ]
    list_display_links = ["id"]
    list_filter = ["status", "category", "created_at"]
    search_fields = ["reason", "post__title", "comment__content", "reporter__email"]
    list_select_related = ["post", "comment", "reporter"]
    readonly_fields = [
        "reporter",
        "post",
        "comment",
        "category",
        "reason",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    ]
    actions = ["resolve", "dismiss", "hide_and_resolve"]

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

    @admin.display(description="Comment")
    def comment_link(self, report):
        if report.comment_id is None:
            return "-"  # a report on the post itself
        url = reverse("admin:comments_comment_change", args=[report.comment_id])
        return format_html('<a href="{}">{}</a>', url, report.comment.content[:60])

    @admin.display(description="Reporter", ordering="reporter__email")
    def reporter_link(self, report):
        url = reverse("admin:accounts_user_change", args=[report.reporter_id])
        return format_html('<a href="{}">{}</a>', url, report.reporter)

    @admin.action(description="Resolve selected reports", permissions=["change"])
    def resolve(self, request, queryset):
        apply_to_selected(
            self,
            request,
            queryset,
            lambda report, moderator, note: services.report_resolve(
                report=report, moderator=moderator, note=note
            ),
            done="Resolved {count} report(s).",
        )

    @admin.action(description="Dismiss selected reports", permissions=["change"])
    def dismiss(self, request, queryset):
        apply_to_selected(
            self,
            request,
            queryset,
            lambda report, moderator, note: services.report_dismiss(
                report=report, moderator=moderator, note=note
            ),
            done="Dismissed {count} report(s).",
        )

    def has_hide_reported_permission(self, request):
        """Closing reports and hiding are separate rights: this action needs both (the right
        to hide posts or comments, checked per report for what it is about)."""
        user = request.user
        return self.has_change_permission(request) and (
            user.has_perm("posts.hide_post") or user.has_perm("comments.hide_comment")
        )

    @admin.action(
        description="Hide the reported post or comment, and resolve",
        permissions=["hide_reported"],
    )
    def hide_and_resolve(self, request, queryset):
        def hide(report, moderator, reason):
            needed = "comments.hide_comment" if report.comment_id else "posts.hide_post"
            if not moderator.has_perm(needed):
                raise ForbiddenError(f"You may not hide what report #{report.pk} is about")
            services.report_hide_and_resolve(report=report, moderator=moderator, reason=reason)

        apply_to_selected(
            self,
            request,
            queryset.select_related("post", "comment"),
            hide,
            done="Hid what {count} report(s) were about.",
        )


class HideActionsMixin:
    """A report count column and the hide and unhide actions, for the admin of what members
    report (posts, comments). Subclasses name the hide permission, the reports that are about
    a row, and the two services."""

    action_form = ModerationActionForm
    actions = ["hide", "unhide"]
    hide_permission: str
    hide_service: Callable
    unhide_service: Callable

    def reports_about(self, pk):
        raise NotImplementedError

    def get_queryset(self, request):
        reports = self.reports_about(OuterRef("pk")).values("pk")
        return super().get_queryset(request).annotate(report_count=SubqueryCount(reports))

    @admin.display(description="Reports", ordering="report_count")
    def report_count(self, obj):
        return obj.report_count

    def has_hide_permission(self, request):
        return request.user.has_perm(self.hide_permission)

    @admin.action(description="Hide selected %(verbose_name_plural)s", permissions=["hide"])
    def hide(self, request, queryset):
        self._apply(request, queryset, self.hide_service, "Hid")

    @admin.action(description="Unhide selected %(verbose_name_plural)s", permissions=["hide"])
    def unhide(self, request, queryset):
        self._apply(request, queryset, self.unhide_service, "Unhid")

    def _apply(self, request, queryset, service, verb: str) -> None:
        done = f"{verb} {{count}} {self.model._meta.verbose_name}(s)."
        apply_to_selected(self, request, queryset, service, done=done)


admin.site.unregister(Post)


@admin.register(Post)
class PostAdmin(HideActionsMixin, posts_admin.PostAdmin):
    """Posts with the reports about them (not about their comments), hide and unhide."""

    list_display = [*posts_admin.PostAdmin.list_display[:-1], "report_count", "created_at"]
    hide_permission = "posts.hide_post"

    def reports_about(self, pk):
        return Report.objects.filter(post=pk, comment__isnull=True)

    @staticmethod
    def hide_service(post, moderator, reason):
        return services.post_hide(post=post, moderator=moderator, reason=reason)

    @staticmethod
    def unhide_service(post, moderator, reason):
        return services.post_unhide(post=post, moderator=moderator, reason=reason)


admin.site.unregister(Comment)


@admin.register(Comment)
class CommentAdmin(HideActionsMixin, comments_admin.CommentAdmin):
    """Comments with their reports, hide and unhide."""

    list_display = [*comments_admin.CommentAdmin.list_display[:-1], "report_count", "created_at"]
    hide_permission = "comments.hide_comment"

    def reports_about(self, pk):
        return Report.objects.filter(comment=pk)

    @staticmethod
    def hide_service(comment, moderator, reason):
        return services.comment_hide(comment=comment, moderator=moderator, reason=reason)

    @staticmethod
    def unhide_service(comment, moderator, reason):
        return services.comment_unhide(comment=comment, moderator=moderator, reason=reason)


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(social_admin.UserAdmin):
    """Members with the suspend and reinstate actions."""

    action_form = ModerationActionForm
    actions = ["suspend", "reinstate"]

    def has_suspend_permission(self, request):
        return request.user.has_perm("accounts.suspend_user")

    @admin.action(description="Suspend selected users", permissions=["suspend"])
    def suspend(self, request, queryset):
        # Refused for oneself, and for staff unless a superuser acts: shown per user.
        apply_to_selected(
            self,
            request,
            queryset,
            lambda user, moderator, reason: services.user_suspend(
                user=user, moderator=moderator, reason=reason
            ),
            done="Suspended {count} user(s).",
        )

    @admin.action(description="Reinstate selected users", permissions=["suspend"])
    def reinstate(self, request, queryset):
        apply_to_selected(
            self,
            request,
            queryset,
            lambda user, moderator, reason: services.user_reinstate(
                user=user, moderator=moderator, reason=reason
            ),
            done="Reinstated {count} user(s).",
        )
