"""The harness's look inside the benchmark database, run by bench/run.py as a subprocess.

It runs with the server's environment (DATABASE_URL and the rest), so it sees exactly what the
server sees, and it prints one JSON object on its last line of stdout. Subcommands:

- `counts`: rows per table, to tell whether the database is already seeded at a size.
- `prepare DIR`: id files for the lua scripts (and the members' vote pools), and the numbers the
  scenarios need.
- `hasher`: the password hasher's parameters and the time one hash takes.
- `cleanup [DIR]`: undo what the write scenarios did (their posts, the votes their toggling left).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Titles of posts made by the POST /posts/ scenario start with this, so cleanup finds them.
BENCH_TITLE_PREFIX = "[bench] "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("counts")
    prepare = sub.add_parser("prepare")
    prepare.add_argument("dir", type=Path)
    prepare.add_argument("--pool", type=int, default=1000, help="ids to rotate through for GETs")
    prepare.add_argument("--vote-pool", type=int, default=4096, help="posts the vote run toggles")
    prepare.add_argument("--logins", type=int, default=100, help="demo users the login run uses")
    prepare.add_argument("--search", default="postgres", help="a word that titles contain")
    prepare.add_argument("--members", type=int, default=200, help="demo users of the mixed runs")
    prepare.add_argument("--member-pool", type=int, default=40, help="posts each member toggles")
    sub.add_parser("hasher")
    cleanup = sub.add_parser("cleanup")
    cleanup.add_argument("dir", type=Path, nargs="?")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialapi.settings")
    import django

    django.setup()
    commands = {
        "counts": counts,
        "prepare": prepare_run,
        "hasher": hasher_cost,
        "cleanup": cleanup_run,
    }
    result = commands[args.command](args)
    print(json.dumps(result))


def counts(args=None) -> dict:
    from accounts.models import User
    from comments.models import Comment
    from posts.models import Post, Vote

    return {
        "users": User.objects.count(),
        "posts": Post.objects.count(),
        "votes": Vote.objects.count(),
        "comments": Comment.objects.count(),
    }


def demo_account():
    from accounts.models import User
    from posts.management.commands.seed_demo import DEMO_EMAIL

    return User.objects.get_by_email(DEMO_EMAIL)


def prepare_run(args) -> dict:
    """Write the id files the lua scripts rotate through, and report what the run needs."""
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User
    from posts.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USER_EMAIL
    from posts.models import Post, Vote

    demo = demo_account()
    args.dir.mkdir(parents=True, exist_ok=True)
    visible = Post.objects.visible_to(demo)
    others_published = visible.filter(published=True, hidden_at__isnull=True).exclude(owner=demo)
    post_ids = list(others_published.order_by("-id").values_list("pk", flat=True)[: args.pool])
    # Posts the demo account has not voted on: the vote run's first pass (dir 1) then succeeds.
    vote_ids = list(
        others_published.exclude(pk__in=Vote.objects.filter(user=demo).values("post_id"))
        .order_by("id")
        .values_list("pk", flat=True)[: args.vote_pool]
    )
    user_ids = list(User.objects.order_by("id").values_list("pk", flat=True)[: args.pool])
    emails = [DEMO_USER_EMAIL.format(n=n) for n in range(1, args.logins + 1)]
    emails = list(
        User.objects.filter(email__in=emails, is_active=True).values_list("email", flat=True)
    ) or [demo.email]
    write_lines(args.dir / "post_ids.txt", post_ids)
    write_lines(args.dir / "vote_ids.txt", vote_ids)
    write_lines(args.dir / "user_ids.txt", user_ids)
    write_lines(args.dir / "login_emails.txt", emails)
    # The mixed scenarios: every post anyone may see, every user, and the members' vote pools.
    public_ids = list(
        Post.objects.visible_to(AnonymousUser()).order_by("id").values_list("pk", flat=True)
    )
    all_user_ids = list(User.objects.order_by("id").values_list("pk", flat=True))
    pools = member_pools(public_ids, args.members, args.member_pool)
    follows = member_follows([email for email, _ in pools])
    # The comment threads read: public posts with comments (any public post if none has).
    commented_ids = list(
        Post.objects.visible_to(AnonymousUser())
        .filter(comment_count__gt=0)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    write_lines(args.dir / "public_post_ids.txt", public_ids)
    write_lines(args.dir / "commented_post_ids.txt", commented_ids or public_ids)
    write_lines(args.dir / "all_user_ids.txt", all_user_ids)
    write_lines(args.dir / "members.txt", (" ".join(map(str, [e, *ids])) for e, ids in pools))

    search = args.search
    matches = visible.search(search).count()
    if not matches:
        # Any word of the newest title exists by definition.
        search = visible.newest_first().values_list("title", flat=True).first().split()[0]
        matches = visible.search(search).count()
    return {
        "demo_user_id": demo.pk,
        "demo_email": demo.email,
        "demo_password": DEMO_PASSWORD,
        "visible_posts": visible.count(),
        "post_ids": len(post_ids),
        "vote_ids": len(vote_ids),
        "user_ids": len(user_ids),
        "login_emails": len(emails),
        "public_posts": len(public_ids),
        "commented_posts": len(commented_ids),
        "all_users": len(all_user_ids),
        "members": len(pools),
        "member_pool": round(statistics.mean(len(ids) for _, ids in pools), 1) if pools else 0,
        "member_follows": follows,
        "search": search,
        "search_matches": matches,
        "counts": counts(),
    }


def member_follows(emails: list[str]) -> float:
    """Each member follows between FOLLOWS_PER_MEMBER[0] and [1] others (seeded: the same on
    every run, topped up only where missing); their mean. The feed scenario reads their feeds.
    """
    from django.db.models import Count

    from accounts.models import User
    from bench.scenarios import FOLLOWS_PER_MEMBER
    from core import cache
    from social.models import Follow, FollowCounts

    members = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
    everyone = list(User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    have = dict(
        Follow.objects.filter(follower__in=members.values())
        .values("follower")
        .annotate(n=Count("*"))
        .values_list("follower", "n")
    )
    rng = random.Random(2)
    low, high = FOLLOWS_PER_MEMBER
    wanted, rows = {}, []
    for email in emails:
        pk = members[email]
        wanted[pk] = min(rng.randint(low, high), len(everyone) - 1)
        others = [other for other in rng.sample(everyone, wanted[pk] + 1) if other != pk]
        if have.get(pk, 0) < wanted[pk]:
            rows += [Follow(follower_id=pk, followee_id=other) for other in others[: wanted[pk]]]
    if rows:
        Follow.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5_000)
        FollowCounts.objects.recount(everyone)  # the bulk insert passed by Follow.save()
        cache.invalidate_all()
    return round(statistics.mean(wanted.values()), 1) if wanted else 0


def member_pools(public_ids: list[int], count: int, size: int) -> list[tuple[str, list[int]]]:
    """[(email, pool)] of demo-user-1..count: public posts it neither owns nor had voted on.

    Its vote toggling sweeps its pool with dir 1, then dir 0: on these, every vote is a 201.
    Seeded random, so runs compare; members without a pool (a tiny database) are left out.
    """
    from accounts.models import User
    from posts.management.commands.seed_demo import DEMO_USER_EMAIL
    from posts.models import Post, Vote

    emails = [DEMO_USER_EMAIL.format(n=n) for n in range(1, count + 1)]
    found = dict(User.objects.filter(email__in=emails, is_active=True).values_list("email", "pk"))
    members = [(email, found[email]) for email in emails if email in found]
    rng = random.Random(1)
    pools = []
    for start in range(0, len(members), 100):  # 100 members' candidates per query
        batch = members[start : start + 100]
        draws = {pk: rng.sample(public_ids, min(len(public_ids), 2 * size)) for _, pk in batch}
        ids = set().union(*draws.values())
        owners = dict(Post.objects.filter(pk__in=ids).values_list("pk", "owner_id"))
        voted = set(
            Vote.objects.filter(user_id__in=draws, post_id__in=ids).values_list(
                "user_id", "post_id"
            )
        )
        for email, pk in batch:
            pool = [i for i in draws[pk] if owners.get(i) != pk and (pk, i) not in voted][:size]
            if pool:
                pools.append((email, pool))
    return pools


def hasher_cost(args=None, repeat: int = 7) -> dict:
    """The default password hasher's parameters and what one hash costs, in-process.

    Wall time and CPU time (all threads: Argon2 may hash its lanes in parallel); the minimum is
    the steadiest figure on a shared machine, the median the likelier one under load.
    """
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher("default")
    params = {
        name: getattr(hasher, name)
        for name in ("time_cost", "memory_cost", "parallelism", "iterations", "work_factor")
        if hasattr(hasher, name)
    }
    salt = hasher.salt()
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        hasher.encode("bench-password-for-timing", salt)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {
        "algorithm": hasher.algorithm,
        "class": f"{type(hasher).__module__}.{type(hasher).__qualname__}",
        "params": params,
        "hash_ms": round(statistics.median(wall), 1),
        "hash_ms_min": round(min(wall), 1),
        "hash_cpu_ms": round(statistics.median(cpu), 1),
        "hash_ms_all": [round(t, 1) for t in wall],
    }


def cleanup_run(args) -> dict:
    """Delete the scenarios' posts and comments, and undo the votes left on the posts their
    toggling swept.

    One object at a time through the services, never a bulk delete: the services keep the
    counters of votes, comments and posts exact. Posts: every demo user's and the demo account's
    titled BENCH_TITLE_PREFIX; comments: theirs whose content starts with it. Votes: the demo
    account's on vote_ids.txt and each member's on its pool.
    """
    from django.db.models import Q

    from accounts.models import User
    from comments import services as comment_services
    from comments.models import Comment
    from core.exceptions import NotFoundError
    from posts import services
    from posts.management.commands.seed_demo import DEMO_EMAIL, DEMO_USER_PATTERN
    from posts.models import Post, Vote

    accounts = User.objects.filter(Q(email__iexact=DEMO_EMAIL) | Q(email__iregex=DEMO_USER_PATTERN))
    posts = Post.objects.filter(owner__in=accounts, title__startswith=BENCH_TITLE_PREFIX)
    posts_deleted = votes_deleted = comments_deleted = 0
    comments = Comment.objects.filter(author__in=accounts, content__startswith=BENCH_TITLE_PREFIX)
    for comment in list(comments.select_related("author", "post").order_by("pk")):
        try:
            comment_services.comment_delete(user=comment.author, comment=comment)
            comments_deleted += 1
        except NotFoundError:
            pass  # deleted meanwhile (its post, or its parent)
    for post in list(posts.order_by("pk")):
        try:
            services.post_delete(post=post)
            posts_deleted += 1
        except NotFoundError:
            pass  # deleted meanwhile
    for user, post_ids in toggled(args.dir) if args.dir else ():
        voted = Vote.objects.filter(user=user, post_id__in=post_ids)
        for post_id in list(voted.values_list("post_id", flat=True)):
            try:
                services.vote_delete(user=user, post_id=post_id)
                votes_deleted += 1
            except NotFoundError:
                pass  # its post deleted or hidden meanwhile
    return {
        "posts_deleted": posts_deleted,
        "votes_deleted": votes_deleted,
        "comments_deleted": comments_deleted,
    }


def toggled(run_dir: Path) -> list:
    """[(user, post ids)] the vote scenarios toggle: the demo account's, then each member's."""
    from accounts.models import User

    pairs = []
    if (run_dir / "vote_ids.txt").exists():
        pairs.append((demo_account(), read_lines(run_dir / "vote_ids.txt")))
    if (run_dir / "members.txt").exists():
        pools = {}
        for line in (run_dir / "members.txt").read_text().splitlines():
            email, *ids = line.split()
            pools[email] = [int(i) for i in ids]
        for user in User.objects.filter(email__in=pools):
            pairs.append((user, pools[user.email]))
    return pairs


def write_lines(path: Path, values) -> None:
    path.write_text("".join(f"{value}\n" for value in values))


def read_lines(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()]


if __name__ == "__main__":
    main()
