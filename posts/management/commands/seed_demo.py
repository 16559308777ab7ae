"""`manage.py seed_demo`: fill the database in bulk with demo users, posts and votes."""

import math
import random
import sys
import time
from array import array
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import AutoField, Q
from django.db.models.functions import Lower
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User
from posts import seeding
from posts.models import Post, PostCounts, PostTotals, Vote
from posts.services import post_counts_rebuild

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-123"
DEMO_USER_EMAIL = "demo-user-{n}@example.com"
DEMO_USER_PATTERN = r"^demo-user-[0-9]+@example\.com$"
DEMO_ACCOUNT_POSTS = 10
PUBLISHED_SHARE = 0.95
SPREAD_SECONDS = 365 * 24 * 3600
DEFAULT_BATCH_SIZE = 10_000

# The seeder builds rows as plain tuples of these attributes; the writers fill in other fields.
USER_COLUMNS = ("email", "password")
POST_COLUMNS = ("title", "content", "published", "created_at", "owner_id")
VOTE_COLUMNS = ("user_id", "post_id", "created_at")

WORDS = (
    "api async backend benchmark bug cache cloud code coffee commit community conference "
    "container data database debug deploy design django docs editor email feature framework "
    "garden github guide hiking index issue json kitchen latency library linux migration "
    "mobile model music network offline open patch performance photo pizza planet postgres "
    "python query queue recipe release remote review road schema search security server "
    "shell sprint startup stream team test travel tutorial update vacation weekend window "
    "workflow a an the my our your this that and or but with without for from about today "
    "tomorrow finally really quick simple better faster new old first last great small big "
    "learned shipped fixed broke tried loved built wrote read found moved started"
).split()


class Command(BaseCommand):
    help = (
        "Top the database up to at least N demo users, N posts and N votes; re-running with the "
        "same numbers creates nothing. Demo users are demo-user-1..N@example.com; posts and votes "
        "count only those owned or cast by demo users (and the demo account), never anyone "
        f"else's. Every demo user, and the demo account {DEMO_EMAIL}, logs in with the password "
        f"{DEMO_PASSWORD!r}; the demo account's password is reset on every run. PostgreSQL loads "
        "rows with COPY, other databases with bulk_create; each batch is its own transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--users",
            type=int,
            default=1_000,
            help="demo-user-1..N exist afterwards (default 1000)",
        )
        parser.add_argument(
            "--posts",
            type=int,
            default=100_000,
            help="at least N posts by demo users and the demo account (default 100000)",
        )
        parser.add_argument(
            "--votes",
            type=int,
            default=500_000,
            help="at least N votes by them on their published posts (default 500000)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"rows per insert and per transaction (default {DEFAULT_BATCH_SIZE})",
        )
        parser.add_argument("--seed", type=int, help="random seed, for a reproducible data set")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bars (off anyway off a TTY)"
        )
        for step in seeding.steps:  # the apps above posts: their own demo rows
            step.add_arguments(parser)

    def handle(self, *args, **options):
        for name in ("users", "posts", "votes"):
            if options[name] < 0:
                raise CommandError(f"--{name} must be zero or more")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        started = time.monotonic()
        seeder = DemoSeeder(
            batch_size=options["batch_size"],
            rng=random.Random(options["seed"]),
            # None: tqdm shows the bar only when stderr is a terminal.
            progress_disabled=True if options["no_progress"] else None,
            stderr=self.stderr,
        )
        created = seeder.run(users=options["users"], posts=options["posts"], votes=options["votes"])
        for step in seeding.steps:
            created[step.name] = step.run(seeder=seeder, options=options)
        # Bulk inserts pass by the models: count again, and retire every cached read.
        post_counts_rebuild()
        # Last: the recount rewrote most posts' rows, and index-only scans (a deep page walks
        # the newest-posts index) need a vacuumed table: 1 s instead of 18 ms at 1M posts.
        seeder.writer.analyze([User, Post, Vote, PostCounts, PostTotals])
        self.stdout.write(self._summary(created, time.monotonic() - started))

    def _summary(self, created: dict, elapsed: float) -> str:
        totals = {
            "users": User.objects.count(),
            "posts": Post.objects.count(),
            "votes": Vote.objects.count(),
            **{step.name: step.total() for step in seeding.steps},
        }
        lines = [f"Seeded demo data in {elapsed:.1f} s"]
        for name, total in totals.items():
            lines.append(f"  {name:<13} {created[name]:>10,} created {total:>12,} in the database")
        lines.append(f"Demo account: {DEMO_EMAIL} / {DEMO_PASSWORD} (also every demo-user-N)")
        return "\n".join(lines)


class DemoSeeder:
    """Creates whatever is missing to reach the requested amounts of demo data."""

    def __init__(
        self, *, batch_size: int, rng: random.Random, progress_disabled: bool | None, stderr
    ):
        self.batch_size = batch_size
        self.stderr = stderr
        self.rng = rng
        self.progress_disabled = progress_disabled
        self.writer = CopyWriter() if connection.vendor == "postgresql" else BulkCreateWriter()
        self.now = timezone.now()

    def run(self, *, users: int, posts: int, votes: int) -> dict:
        # One hash for every demo row: hashing is deliberately slow (Argon2), rows are many.
        password_hash = make_password(DEMO_PASSWORD)
        demo_account = self.ensure_demo_account(password_hash)
        created = {"users": self.create_users(users, password_hash)}
        demo_user_ids = list(_demo_users().order_by("pk").values_list("pk", flat=True))
        self.members = members = [demo_account.pk, *demo_user_ids]
        created["posts"] = self.create_posts(posts, demo_account.pk, demo_user_ids or members)
        created["votes"] = self.create_votes(votes, members)
        return created

    def ensure_demo_account(self, password_hash: str) -> User:
        """The known account: created if missing; its password reset and the account active."""
        try:
            account = User.objects.get_by_email(DEMO_EMAIL)
        except User.DoesNotExist:
            return User.objects.create(email=DEMO_EMAIL, password=password_hash)
        account.password = password_hash
        account.is_active = True
        account.save(update_fields=["password", "is_active"])
        return account

    def create_users(self, target: int, password_hash: str) -> int:
        wanted = {DEMO_USER_EMAIL.format(n=n) for n in range(1, target + 1)}
        existing = {email.lower() for email in _demo_users().values_list("email", flat=True)}
        missing = sorted(wanted - existing, key=lambda email: (len(email), email))
        created = 0
        with self.progress("users", len(missing)) as bar:
            for start in range(0, len(missing), self.batch_size):
                rows = [
                    (email, password_hash) for email in missing[start : start + self.batch_size]
                ]
                with transaction.atomic():
                    # Conflicts are ignored: a concurrent run may have made the same user meanwhile.
                    created += self.writer.insert_ignoring_conflicts(User, USER_COLUMNS, rows)
                bar.update(len(rows))
        return created

    def create_posts(self, target: int, demo_account_id: int, owner_ids: list[int]) -> int:
        to_create = max(0, target - Post.objects.filter(owner__in=_demo_members()).count())
        # The demo account owns a few posts (the first of them a draft) so it has something to show.
        account_posts = Post.objects.filter(owner_id=demo_account_id).count()
        for_account = min(to_create, max(0, DEMO_ACCOUNT_POSTS - account_posts))
        with self.progress("posts", to_create) as bar:
            for start in range(0, to_create, self.batch_size):
                count = min(self.batch_size, to_create - start)
                rows = []
                for i in range(start, start + count):
                    if i < for_account:
                        owner_id, published = demo_account_id, not (i == 0 and account_posts == 0)
                    else:
                        owner_id = self.rng.choice(owner_ids)
                        published = self.rng.random() < PUBLISHED_SHARE
                    rows.append(self.new_post(owner_id, published))
                with transaction.atomic():
                    self.writer.insert(Post, POST_COLUMNS, rows)
                bar.update(count)
        return to_create

    def new_post(self, owner_id: int, published: bool) -> tuple:
        """A row of POST_COLUMNS: word salad, published or a draft, from the past year."""
        rng = self.rng
        title = " ".join(rng.choices(WORDS, k=rng.randint(3, 8))).capitalize()
        content = " ".join(
            " ".join(rng.choices(WORDS, k=rng.randint(6, 16))).capitalize() + "."
            for _ in range(rng.randint(1, 4))
        )
        created_at = self.now - timedelta(seconds=rng.random() * SPREAD_SECONDS)
        return title, content, published, created_at, owner_id

    def create_votes(self, target: int, voter_ids: list[int]) -> int:
        """Votes by demo members on published demo posts, each (user, post) pair at most once."""
        existing = Vote.objects.filter(user__in=_demo_members()).count()
        to_create = max(0, target - existing)
        if not to_create:
            return 0
        posts = [
            (pk, created_at.timestamp())
            for pk, created_at in Post.objects.filter(owner__in=_demo_members(), published=True)
            .order_by("pk")
            .values_list("pk", "created_at")
            .iterator(chunk_size=self.batch_size)
        ]
        pairs = _distinct_pairs(len(voter_ids), len(posts), self.rng, start=existing)
        now_ts = self.now.timestamp()
        created = 0
        with self.progress("votes", to_create) as bar:
            while created < to_create:
                rows = []
                wanted = min(self.batch_size, to_create - created)
                for user_index, post_index in pairs:
                    post_id, post_ts = posts[post_index]
                    # A vote comes after its post: somewhere between the post and now.
                    voted_ts = post_ts + self.rng.random() * (now_ts - post_ts)
                    voted_at = datetime.fromtimestamp(voted_ts, tz=UTC)
                    rows.append((voter_ids[user_index], post_id, voted_at))
                    if len(rows) == wanted:
                        break
                if not rows:
                    break  # every (member, post) pair has its vote already
                with transaction.atomic():
                    inserted = self.writer.insert_ignoring_conflicts(Vote, VOTE_COLUMNS, rows)
                created += inserted
                bar.update(inserted)
        if created < to_create:
            self.stderr.write(
                f"Stopped at {existing + created} votes: each of the {len(voter_ids)} members "
                f"has voted on each of the {len(posts)} published posts."
            )
        return created

    def progress(self, label: str, total: int) -> tqdm:
        return tqdm(
            total=total,
            desc=label,
            unit=" rows",
            unit_scale=True,
            file=sys.stderr,
            disable=self.progress_disabled,
        )


def _demo_users():
    return User.objects.alias(email_lower=Lower("email")).filter(
        email_lower__regex=DEMO_USER_PATTERN
    )


def _demo_members():
    """The demo users and the demo account: the owners and voters whose rows the targets count."""
    return User.objects.alias(email_lower=Lower("email")).filter(
        Q(email_lower__regex=DEMO_USER_PATTERN) | Q(email_lower=DEMO_EMAIL)
    )


def _distinct_pairs(users: int, posts: int, rng: random.Random, *, start: int = 0):
    """Yield every (user index, post index) pair exactly once, in rounds over the posts.

    Round r gives each post, in id order, the voter (a*r + c[post]) mod users: with a coprime to
    `users` no post meets a voter twice, so no memory of the pairs made (5M in a set would take
    ~400 MB) is needed. Sweeping the posts in id order in each round keeps every index insert and
    foreign-key check near the last one (the vote indexes grow in order), which on PostgreSQL
    loads several times faster than scattered pairs. `start` skips the pairs that a previous run
    with the same seed and sizes has most likely made already.
    """
    space = users * posts
    if not space:
        return
    step = 1 + rng.randrange(users)
    while math.gcd(step, users) != 1:
        step += 1
    offsets = array("q", (rng.randrange(users) for _ in range(posts)))
    for index in range(start, start + space):
        round_, post = divmod(index % space, posts)
        yield (step * round_ + offsets[post]) % users, post


class BulkCreateWriter:
    """Any database Django supports: batched multi-row INSERTs through bulk_create."""

    def insert(self, model, columns, rows) -> None:
        model.objects.bulk_create(_instances(model, columns, rows), batch_size=len(rows))

    def insert_ignoring_conflicts(self, model, columns, rows) -> int:
        # bulk_create cannot say how many rows it skipped; a count inside the transaction can.
        before = model.objects.count()
        objs = _instances(model, columns, rows)
        model.objects.bulk_create(objs, batch_size=len(rows), ignore_conflicts=True)
        return model.objects.count() - before

    def analyze(self, models) -> None:
        """Nothing to do: SQLite plans fine without statistics at demo sizes."""


class CopyWriter:
    """PostgreSQL: COPY, several times faster than INSERT for millions of rows."""

    def insert(self, model, columns, rows) -> None:
        with connection.cursor() as cursor:
            self._copy(cursor, model, model._meta.db_table, columns, rows)

    def insert_ignoring_conflicts(self, model, columns, rows) -> int:
        # COPY cannot skip duplicates: stage the batch, then INSERT ... ON CONFLICT DO NOTHING.
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        names = ", ".join(quote(f.column) for f in _copy_fields(model, columns))
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE seed_demo_stage AS "
                f"SELECT {names} FROM {table} WITH NO DATA"
            )
            self._copy(cursor, model, "seed_demo_stage", columns, rows)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM seed_demo_stage "
                "ON CONFLICT DO NOTHING"
            )
            inserted = cursor.rowcount
            # Dropped here, not ON COMMIT: inside an outer transaction commit comes too late.
            cursor.execute("DROP TABLE seed_demo_stage")
        return inserted

    def analyze(self, models) -> None:
        """Give the planner statistics for the new rows (and, outside a transaction, a vacuum).

        VACUUM also sets the visibility map, so vote counts can come from index-only scans
        straight away instead of after autovacuum gets round to the tables.
        """
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{verb} {tables}")

    @staticmethod
    def _copy(cursor, model, table: str, columns, rows) -> None:
        fields = _copy_fields(model, columns)
        others = fields[len(columns) :]
        names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with cursor.copy(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                if others:
                    obj = model()
                    row = (
                        *row,
                        *(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in others),
                    )
                copy.write_row(row)


def _instances(model, columns, rows) -> list:
    return [model(**dict(zip(columns, row, strict=True))) for row in rows]


def _copy_fields(model, columns) -> list:
    """The seeder's columns, then every other field bulk_create would write (with its default).

    Other engineers add fields to these models; a field the seeder does not know still gets the
    value Django would give it, instead of a NULL that breaks the load.
    """
    named = [model._meta.get_field(name) for name in columns]
    others = [f for f in _insert_fields(model) if f not in named]
    return named + others


def _insert_fields(model):
    """The columns bulk_create would write: concrete, not generated, not the auto primary key."""
    return [
        f
        for f in model._meta.concrete_fields
        if not f.generated and not isinstance(f, AutoField) and not f.db_returning
    ]
