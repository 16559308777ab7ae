"""`seed_demo --comments N`: comments by demo members on public posts, a fifth of them replies
(posts.seeding)."""

from datetime import timedelta

from django.core.management.base import CommandError
from django.db import transaction

from posts.models import Post

from .models import Comment
from .services import comment_counts_rebuild

COMMENT_COLUMNS = ("post_id", "author_id", "parent_id", "content", "created_at")
REPLY_SHARE = 0.2
WORDS = "yes no maybe agreed great point thanks but why how when indeed nice".split()


class CommentsStep:
    name = "comments"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--comments",
            type=int,
            default=20_000,
            help="at least N comments by demo members on public posts, a fifth of them "
            "replies (default 20000)",
        )

    def run(self, *, seeder, options) -> int:
        wanted = options["comments"]
        if wanted < 0:
            raise CommandError("--comments must be zero or more")
        missing = wanted - Comment.objects.count()
        posts = list(Post.objects.public().values_list("pk", "created_at"))
        if missing <= 0 or not posts:
            return 0
        replies = int(missing * REPLY_SHARE)
        created = self._insert(seeder, self._rows(seeder, posts, missing - replies), "comments")
        parents = list(
            Comment.objects.filter(parent__isnull=True)
            .order_by("?")
            .values_list("pk", "post_id", "created_at")[: max(replies, 1)]
        )
        rows = []
        for _ in range(replies):
            parent, post_id, since = seeder.rng.choice(parents)
            rows.append(self._row(seeder, post_id, since, parent=parent))
        created += self._insert(seeder, rows, "replies")
        comment_counts_rebuild()  # the bulk insert passed by Comment.save()
        seeder.writer.analyze([Comment, Post])
        return created

    def _rows(self, seeder, posts, count: int) -> list[tuple]:
        return [self._row(seeder, *seeder.rng.choice(posts)) for _ in range(count)]

    def _row(self, seeder, post_id, since, *, parent=None) -> tuple:
        rng = seeder.rng
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30)))
        age = max((seeder.now - since).total_seconds(), 1)
        when = since + timedelta(seconds=rng.random() * age)
        return (post_id, rng.choice(seeder.members), parent, words.capitalize() + ".", when)

    def _insert(self, seeder, rows: list[tuple], label: str) -> int:
        with seeder.progress(label, len(rows)) as bar:
            for start in range(0, len(rows), seeder.batch_size):
                batch = rows[start : start + seeder.batch_size]
                with transaction.atomic():
                    seeder.writer.insert(Comment, COMMENT_COLUMNS, batch)
                bar.update(len(batch))
        return len(rows)

    def total(self) -> int:
        return Comment.objects.count()
