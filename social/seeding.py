"""`seed_demo --follows N`: each demo member follows N others at random (posts.seeding)."""

from datetime import timedelta

from django.core.management.base import CommandError
from django.db import transaction

from .models import Follow, FollowCounts

FOLLOW_COLUMNS = ("follower_id", "followee_id", "created_at")
SPREAD_SECONDS = 365 * 24 * 3600


class FollowsStep:
    name = "follows"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--follows",
            type=int,
            default=20,
            help="each demo member follows at least N other demo members (default 20)",
        )

    def run(self, *, seeder, options) -> int:
        """Top each member up to N follows of distinct others; then count everyone's again."""
        per_member = options["follows"]
        if per_member < 0:
            raise CommandError("--follows must be zero or more")
        members, rng = seeder.members, seeder.rng
        followed = {member: set() for member in members}
        pairs = Follow.objects.filter(follower__in=members).values_list("follower", "followee")
        for follower, followee in pairs.iterator():
            followed[follower].add(followee)
        wanted = min(per_member, len(members) - 1)
        rows = []
        for member in members:
            known = followed[member]
            for _ in range(20 * wanted):  # random draws; enough unless N is nearly everyone
                if len(known) >= wanted:
                    break
                other = rng.choice(members)
                if other != member and other not in known:
                    known.add(other)
                    when = seeder.now - timedelta(seconds=rng.random() * SPREAD_SECONDS)
                    rows.append((member, other, when))
        created = 0
        with seeder.progress("follows", len(rows)) as bar:
            for start in range(0, len(rows), seeder.batch_size):
                batch = rows[start : start + seeder.batch_size]
                with transaction.atomic():
                    created += seeder.writer.insert_ignoring_conflicts(
                        Follow, FOLLOW_COLUMNS, batch
                    )
                bar.update(len(batch))
        FollowCounts.objects.recount(members)  # the bulk insert passed by Follow.save()
        seeder.writer.analyze([Follow, FollowCounts])
        return created

    def total(self) -> int:
        return Follow.objects.count()
