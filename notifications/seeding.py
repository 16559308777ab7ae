"""`seed_demo`: the notifications the demo data's follows, likes and comments would have made.

Those rows are bulk-loaded past the models (posts.seeding), so nothing told anyone; this step
writes what the signals would have, in a few INSERT ... SELECTs, skipping what exists. The
older ones (past a week) are marked read, as a member who comes back now and then leaves them.
"""

from datetime import timedelta

from django.db import connection, transaction

from .models import Notification

READ_AFTER = timedelta(days=7)

# {type: the select of its rows (recipient_id, actor_id, post_id, comment_id, created_at)}
SOURCES = {
    "follow": """
        SELECT f.followee_id AS recipient_id, f.follower_id AS actor_id,
          CAST(NULL AS bigint) AS post_id, CAST(NULL AS bigint) AS comment_id, f.created_at
        FROM social_follow f""",
    "vote": """
        SELECT p.owner_id AS recipient_id, v.user_id AS actor_id, v.post_id,
          CAST(NULL AS bigint) AS comment_id, v.created_at
        FROM posts_vote v JOIN posts_post p ON p.id = v.post_id
        WHERE p.owner_id <> v.user_id""",
    "reply": """
        SELECT parent.author_id AS recipient_id, c.author_id AS actor_id, c.post_id,
          c.id AS comment_id, c.created_at
        FROM comments_comment c JOIN comments_comment parent ON parent.id = c.parent_id
        WHERE parent.author_id <> c.author_id""",
    "comment": """
        SELECT p.owner_id AS recipient_id, c.author_id AS actor_id, c.post_id,
          c.id AS comment_id, c.created_at
        FROM comments_comment c JOIN posts_post p ON p.id = c.post_id
        LEFT JOIN comments_comment parent ON parent.id = c.parent_id
        WHERE p.owner_id <> c.author_id
          AND (parent.author_id IS NULL OR parent.author_id <> p.owner_id)""",
}


class NotificationsStep:
    name = "notifications"

    def add_arguments(self, parser) -> None:
        pass  # made from the other steps' rows: nothing to choose

    def run(self, *, seeder, options) -> int:
        table = Notification._meta.db_table
        read_before = connection.ops.adapt_datetimefield_value(seeder.now - READ_AFTER)
        created = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for kind, source in SOURCES.items():
                cursor.execute(
                    f"INSERT INTO {table} "
                    "(recipient_id, actor_id, post_id, comment_id, created_at, type, read) "
                    "SELECT s.recipient_id, s.actor_id, s.post_id, s.comment_id, s.created_at, "
                    f"%s, s.created_at < %s FROM ({source}) AS s "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} n WHERE n.type = %s "
                    "AND n.recipient_id = s.recipient_id AND n.actor_id = s.actor_id "
                    "AND n.post_id IS NOT DISTINCT FROM s.post_id "
                    "AND n.comment_id IS NOT DISTINCT FROM s.comment_id)",
                    [kind, read_before, kind],
                )
                created += cursor.rowcount
        seeder.writer.analyze([Notification])
        return created

    def total(self) -> int:
        return Notification.objects.count()
