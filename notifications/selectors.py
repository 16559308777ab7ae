"""A member's notifications: the first page and the unread count from the shared cache.

Both are cached per member under `notifications-of:{id}`, which every write of one of their
notifications retires (notifications.signals, and marking read), beside their blocks (a block
hides notifications across it) and "users" (an actor's email is in the page). Later pages, by
cursor, come from the database: one query.
"""

from core import cache

from .models import Notification
from .serializers import NotificationSerializer


def inbox_versions(member_id: int) -> tuple[str, ...]:
    return (f"notifications-of:{member_id}", f"blocks-of:{member_id}", "users")


def first_page_key(member_id: int, limit: int) -> dict[str, tuple[str, ...]]:
    return {f"notifications:{member_id}:{limit}": inbox_versions(member_id)}


def unread_key(member_id: int) -> dict[str, tuple[str, ...]]:
    return {f"notifications:unread:{member_id}": inbox_versions(member_id)}


def page(*, request, user, paginator) -> tuple[list[dict], tuple | None]:
    """A page of `user`'s notifications, newest first, and the place of its last row if more
    follow."""
    if paginator.limit == 0:
        return [], None
    if paginator.before is not None:
        return _page(user, paginator)
    ((key, names),) = first_page_key(user.pk, paginator.limit).items()
    found = cache.read_through(
        request, key, versions_of=names, compute=lambda: _page(user, paginator)
    )
    return tuple(found)


def _page(user, paginator) -> tuple[list[dict], tuple | None]:
    inbox = Notification.objects.inbox_of(user).newest_first().select_related("actor")
    rows = list(paginator.before_filter(inbox)[: paginator.limit + 1])
    shown = rows[: paginator.limit]
    more = len(rows) > paginator.limit
    next_row = (shown[-1].created_at, shown[-1].pk) if more else None
    return list(NotificationSerializer(shown, many=True).data), next_row


def unread_count(*, request, user) -> int:
    ((key, names),) = unread_key(user.pk).items()
    return cache.read_through(
        request,
        key,
        versions_of=names,
        compute=lambda: Notification.objects.inbox_of(user).filter(read=False).count(),
    )
