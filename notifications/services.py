"""Writes on notifications that are not an action's own (those are in notifications.signals)."""

from core import cache

from .models import Notification


def mark_read(*, user, up_to_id: int | None) -> None:
    """Mark read `user`'s unread notifications (those up to `up_to_id`, when given)."""
    unread = Notification.objects.filter(recipient=user, read=False)
    if up_to_id is not None:
        unread = unread.filter(pk__lte=up_to_id)
    if unread.update(read=True):
        cache.invalidate(f"notifications-of:{user.pk}")
