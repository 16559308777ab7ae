"""Moderation: every action the API or the admin takes on reports, posts and users.

Each moderator action writes the admin's audit trail (LogEntry), whoever calls it: custom
admin actions do not log by themselves, and the API must leave the same trace as the admin.
"""

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import tokens_revoke_all
from core.exceptions import ConflictError, DomainError, NotFoundError
from posts.models import Post

from .models import Report


def _audit(*, actor: User, obj, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=actor.pk, queryset=[obj], action_flag=CHANGE, change_message=message
    )


def report_create(
    *, reporter: User, post_id: int, reason: str, category: str = Report.Category.OTHER
) -> Report:
    """File a report on a post the reporter can see; one open report per reporter and post."""
    post = Post.objects.visible_to(reporter).filter(pk=post_id).first()
    if post is None:
        raise NotFoundError(f"post with id: {post_id} was not found")
    try:
        with transaction.atomic():
            return Report.objects.create(
                reporter=reporter, post=post, reason=reason, category=category
            )
    except IntegrityError:
        raise ConflictError(
            f"user {reporter.pk} already has an open report on post {post_id}"
        ) from None


def _close(*, report: Report, moderator: User, status: str, note: str) -> Report:
    if report.status != Report.Status.OPEN:
        return report  # already worked: closing twice changes nothing and logs nothing
    report.status = status
    report.resolved_at = timezone.now()
    report.resolved_by = moderator
    report.save(update_fields=["status", "resolved_at", "resolved_by"])
    _audit(
        actor=moderator, obj=report, message=f"{report.get_status_display()} report. {note}".strip()
    )
    return report


@transaction.atomic
def report_resolve(*, report: Report, moderator: User, note: str = "") -> Report:
    return _close(report=report, moderator=moderator, status=Report.Status.RESOLVED, note=note)


@transaction.atomic
def report_dismiss(*, report: Report, moderator: User, note: str = "") -> Report:
    return _close(report=report, moderator=moderator, status=Report.Status.DISMISSED, note=note)


@transaction.atomic
def report_hide_post_and_resolve(*, report: Report, moderator: User, reason: str) -> Report:
    post_hide(post=report.post, moderator=moderator, reason=reason or report.reason)
    return _close(
        report=report, moderator=moderator, status=Report.Status.RESOLVED, note="Post hidden."
    )


@transaction.atomic
def post_hide(*, post: Post, moderator: User, reason: str) -> Post:
    """Hide a post from everyone but its owner and staff."""
    if post.hidden_at is not None:
        return post
    post.hidden_at = timezone.now()
    post.hidden_by = moderator
    post.hidden_reason = reason
    post.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    _audit(actor=moderator, obj=post, message=f"Hid post. Reason: {reason or '(none given)'}")
    return post


@transaction.atomic
def post_unhide(*, post: Post, moderator: User, reason: str = "") -> Post:
    if post.hidden_at is None:
        return post
    post.hidden_at = None
    post.hidden_by = None
    post.hidden_reason = ""
    post.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    _audit(actor=moderator, obj=post, message=f"Unhid post. {reason}".strip())
    return post


class SelfModerationError(DomainError):
    """A moderator may not suspend their own account."""


@transaction.atomic
def user_suspend(*, user: User, moderator: User, reason: str) -> User:
    """Suspend: no login, and every token stops working on its next use. Posts stay."""
    if user.pk == moderator.pk:
        raise SelfModerationError("You cannot suspend yourself")
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens_revoke_all(user=user)
    _audit(actor=moderator, obj=user, message=f"Suspended user. Reason: {reason or '(none given)'}")
    return user


@transaction.atomic
def user_reinstate(*, user: User, moderator: User, reason: str = "") -> User:
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    _audit(actor=moderator, obj=user, message=f"Reinstated user. {reason}".strip())
    return user
