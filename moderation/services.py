"""Moderation: every action the API or the admin takes on reports, posts, comments and users.

Each moderator action writes the admin's audit trail (LogEntry), whoever calls it: custom
admin actions do not log by themselves, and the API must leave the same trace as the admin.
Each action locks its row first, so two moderators doing the same thing at once change it
and log it once.
"""

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import tokens_revoke_all
from comments.models import Comment
from comments.services import comment_get_visible
from core.db import exists_key_share_locked
from core.exceptions import ConflictError, DomainError, NotFoundError
from posts.models import Post

from .models import Report

HIDDEN_REASON_MAX = Post._meta.get_field("hidden_reason").max_length


class SelfModerationError(DomainError):
    """A moderator may not suspend their own account."""


class ModerationPermissionError(DomainError):
    """Only a superuser may suspend staff: moderators cannot lock out each other or the admins."""

    status_code = 403


def _audit(*, actor: User, obj, action: str, reason: str = "") -> None:
    """One LogEntry saying what was done and why, in the admin's history of `obj`."""
    why = f"Reason: {reason}" if reason else "No reason given."
    LogEntry.objects.log_actions(
        user_id=actor.pk, queryset=[obj], action_flag=CHANGE, change_message=f"{action}. {why}"
    )


def _locked(obj):
    """`obj` as it is now in the database, its row locked until the transaction ends."""
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)


def _locked_comment(comment: Comment) -> Comment:
    """The comment as it is now, locked; its post key-share locked first, as every comment
    write takes them (comments.services): a hide racing the post's deletion waits for it, then
    finds the comment gone (a refusal the admin shows), and never deadlocks with a comment's
    deletion either."""
    exists_key_share_locked(Post.objects.filter(pk=comment.post_id))
    found = Comment.objects.select_for_update().filter(pk=comment.pk).first()
    if found is None:
        raise NotFoundError(f"Comment with id: {comment.pk} does not exist")
    return found


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
        if not Post.objects.filter(pk=post_id).exists():  # deleted meanwhile
            raise NotFoundError(f"post with id: {post_id} was not found") from None
        raise ConflictError(
            f"user {reporter.pk} already has an open report on post {post_id}"
        ) from None


def comment_report_create(
    *, reporter: User, comment_id: int, reason: str, category: str = Report.Category.OTHER
) -> Report:
    """File a report on a comment the reporter can see; one open report per reporter and
    comment."""
    comment = comment_get_visible(user=reporter, comment_id=comment_id)
    try:
        with transaction.atomic():
            return Report.objects.create(
                reporter=reporter,
                post_id=comment.post_id,
                comment=comment,
                reason=reason,
                category=category,
            )
    except IntegrityError:
        comment_get_visible(user=reporter, comment_id=comment_id)  # deleted meanwhile: a 404
        raise ConflictError(
            f"user {reporter.pk} already has an open report on comment {comment_id}"
        ) from None


def _close(*, report: Report, moderator: User, status: str, action: str, reason: str) -> Report:
    report = _locked(report)
    if report.status != Report.Status.OPEN:
        return report  # already worked: closing twice changes nothing and logs nothing
    report.status = status
    report.resolved_at = timezone.now()
    report.resolved_by = moderator
    report.save(update_fields=["status", "resolved_at", "resolved_by"])
    _audit(actor=moderator, obj=report, action=action, reason=reason)
    return report


@transaction.atomic
def report_resolve(*, report: Report, moderator: User, note: str = "") -> Report:
    """Close a report as acted upon."""
    return _close(
        report=report,
        moderator=moderator,
        status=Report.Status.RESOLVED,
        action="Resolved report",
        reason=note,
    )


@transaction.atomic
def report_dismiss(*, report: Report, moderator: User, note: str = "") -> Report:
    """Close a report as unfounded."""
    return _close(
        report=report,
        moderator=moderator,
        status=Report.Status.DISMISSED,
        action="Dismissed report",
        reason=note,
    )


@transaction.atomic
def report_hide_and_resolve(*, report: Report, moderator: User, reason: str = "") -> Report:
    """Hide what was reported, the comment or else the post (for `reason`, else the
    reporter's), and resolve the report."""
    reason = reason or report.reason
    if report.comment_id is not None:
        comment_hide(comment=report.comment, moderator=moderator, reason=reason)
        action = "Resolved report: hid the comment"
    else:
        post_hide(post=report.post, moderator=moderator, reason=reason)
        action = "Resolved report: hid the post"
    return _close(
        report=report,
        moderator=moderator,
        status=Report.Status.RESOLVED,
        action=action,
        reason=reason,
    )


def _set_hidden(obj, *, hide: bool, moderator: User, reason: str, what: str):
    """Hide `obj` (a post or a comment, its row locked) or show it again, and log it; nothing
    to do, and nothing logged, if it is so already."""
    if (obj.hidden_at is not None) == hide:
        return obj
    obj.hidden_at = timezone.now() if hide else None
    obj.hidden_by = moderator if hide else None
    # The author is shown this; a reporter's reason may be longer than the column.
    obj.hidden_reason = reason[:HIDDEN_REASON_MAX] if hide else ""
    obj.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    _audit(actor=moderator, obj=obj, action=f"{'Hid' if hide else 'Unhid'} {what}", reason=reason)
    return obj


@transaction.atomic
def post_hide(*, post: Post, moderator: User, reason: str = "") -> Post:
    """Hide a post from everyone but its owner and staff."""
    return _set_hidden(_locked(post), hide=True, moderator=moderator, reason=reason, what="post")


@transaction.atomic
def post_unhide(*, post: Post, moderator: User, reason: str = "") -> Post:
    """Show a hidden post again to everyone who may see it."""
    return _set_hidden(_locked(post), hide=False, moderator=moderator, reason=reason, what="post")


@transaction.atomic
def comment_hide(*, comment: Comment, moderator: User, reason: str = "") -> Comment:
    """Hide a comment from everyone but its author, the post's owner and staff."""
    comment = _locked_comment(comment)
    return _set_hidden(comment, hide=True, moderator=moderator, reason=reason, what="comment")


@transaction.atomic
def comment_unhide(*, comment: Comment, moderator: User, reason: str = "") -> Comment:
    """Show a hidden comment again to everyone who may see it."""
    comment = _locked_comment(comment)
    return _set_hidden(comment, hide=False, moderator=moderator, reason=reason, what="comment")


@transaction.atomic
def user_suspend(*, user: User, moderator: User, reason: str = "") -> User:
    """Suspend: no login, and every token stops working on its next use. Posts stay."""
    if user.pk == moderator.pk:
        raise SelfModerationError("You cannot suspend yourself")
    user = _locked(user)
    if (user.is_staff or user.is_superuser) and not moderator.is_superuser:
        raise ModerationPermissionError(f"Only a superuser can suspend staff ({user.email})")
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens_revoke_all(user=user)
    _audit(actor=moderator, obj=user, action="Suspended user", reason=reason)
    return user


@transaction.atomic
def user_reinstate(*, user: User, moderator: User, reason: str = "") -> User:
    """Let a suspended user log in again; the tokens they held stay revoked."""
    user = _locked(user)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    _audit(actor=moderator, obj=user, action="Reinstated user", reason=reason)
    return user
