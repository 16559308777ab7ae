"""User administration: search, filters, activity counts, and suspend / reinstate actions."""

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.db.models import OuterRef

from core.db import SubqueryCount
from moderation import services as moderation
from moderation.admin import ModerationActionForm, apply_to_selected
from posts.models import Post, Vote

from .models import User
from .services import tokens_revoke_all


class UserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    action_form = ModerationActionForm
    ordering = ["-created_at", "-id"]
    list_display = ["email", "is_active", "is_staff", "created_at", "post_count", "vote_count"]
    list_filter = ["is_active", "is_staff", "is_superuser", "created_at", "groups"]
    search_fields = ["email"]
    readonly_fields = ["created_at", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            "Status and permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["created_at", "last_login"]}),
    ]
    add_fieldsets = [
        (
            None,
            {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]},
        ),
    ]
    actions = ["suspend", "reinstate"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                post_count=SubqueryCount(Post.objects.filter(owner=OuterRef("pk")).values("pk")),
                vote_count=SubqueryCount(Vote.objects.filter(user=OuterRef("pk")).values("pk")),
            )
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Unticking "active" by hand suspends too: the refresh tokens must not outlive it.
            tokens_revoke_all(user=obj)

    @admin.display(description="Posts", ordering="post_count")
    def post_count(self, user):
        return user.post_count

    @admin.display(description="Votes", ordering="vote_count")
    def vote_count(self, user):
        return user.vote_count

    def has_suspend_permission(self, request):
        return request.user.has_perm("accounts.suspend_user")

    @admin.action(description="Suspend selected users", permissions=["suspend"])
    def suspend(self, request, queryset):
        # Refused for oneself, and for staff unless a superuser acts: shown per user.
        apply_to_selected(
            self,
            request,
            queryset,
            lambda user, moderator, reason: moderation.user_suspend(
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
            lambda user, moderator, reason: moderation.user_reinstate(
                user=user, moderator=moderator, reason=reason
            ),
            done="Reinstated {count} user(s).",
        )
