"""What the members' load (members.py) shows: its read-backs, its failures by method, and
whether every write it had acknowledged is in the database afterwards, once."""

from __future__ import annotations

from reliability.keyed import writes_tally
from reliability.members import METHOD, Check, MemberLoad
from reliability.report import unexpected_4xx_problems
from reliability.writes import keyed_line, lost_problems


def check_counts(checks: list[Check]) -> dict:
    counts = {"ok": 0, "violation": 0, "failed": 0, "unsure": 0}
    for check in checks:
        counts[check.outcome] += 1
    return counts


def verify_member_writes(load: MemberLoad, connect) -> dict:
    """What the members had acknowledged, against what the database holds after the load."""
    expected_titles = {
        post_id: title
        for m in load.members
        for post_id, title in m.posts.items()
        if title is not None
    }
    votes = {(m.id, p): state for m in load.members for p, state in m.votes.items()}
    # Each acknowledged create's title, as sent (a later edit changes the post's, not a twin's).
    acked_titles = [w.mark for w in load.writes if w.endpoint == "create" and w.acked]
    known_votes = {key: state for key, state in votes.items() if state is not None}
    with connect() as conn:
        titles = dict(
            conn.execute(
                "SELECT id, title FROM posts_post WHERE id = ANY(%s::bigint[])",
                [list(load.created)],
            ).fetchall()
        )
        voted = set(
            conn.execute(
                "SELECT user_id, post_id FROM posts_vote WHERE post_id = ANY(%s::bigint[])",
                [list({p for _, p in known_votes})],
            ).fetchall()
        )
        comments = {
            row[0]
            for row in conn.execute(
                "SELECT id FROM comments_comment WHERE id = ANY(%s::bigint[])",
                [list(load.comments)],
            )
        }
        # A post with an acknowledged create's title but not its id: that create ran twice.
        twins = conn.execute(
            "SELECT count(*) FROM posts_post WHERE title = ANY(%s::text[]) "
            "AND NOT id = ANY(%s::bigint[])",
            [acked_titles, list(load.created)],
        ).fetchone()[0]
    posts_missing = [p for p, t in expected_titles.items() if p not in titles]
    titles_wrong = [p for p, t in expected_titles.items() if p in titles and titles[p] != t]
    deleted_present = [p for p in load.deleted if p in titles]
    votes_wrong = [key for key, state in known_votes.items() if (key in voted) != state]
    comments_missing = [
        c for c, post in load.comments.items() if c not in comments and post not in load.deleted
    ]
    lost = (
        len(posts_missing)
        + len(titles_wrong)
        + len(deleted_present)
        + len(votes_wrong)
        + len(comments_missing)
        + len(load.vote_contradictions)
    )
    return {
        **writes_tally(load.writes),
        "posts_acked": len(load.created),
        "edits_checked": len(expected_titles),
        "deletes_acked": len(load.deleted),
        "votes_checked": len(known_votes),
        "comments_acked": len(load.comments),
        "posts_missing": posts_missing,
        "titles_wrong": titles_wrong,
        "deleted_present": deleted_present,
        "votes_wrong": votes_wrong,
        "comments_missing": comments_missing,
        "contradictions": load.vote_contradictions,
        "lost_writes": lost,
        "post_duplicates": twins,
        "vote_duplicates": load.vote_duplicates,
        "duplicates": twins + load.vote_duplicates,
    }


def writes_line(check: dict) -> str:
    line = (
        keyed_line(check)
        + "\n"
        + f"acknowledged writes in the database: {check['posts_acked']:,} posts created, "
        f"{check['deletes_acked']:,} deleted, {check['comments_acked']:,} comments; final titles "
        f"of {check['edits_checked']:,} live posts and the state of {check['votes_checked']:,} "
        f"votes compared: {check['lost_writes']} lost; duplicates: {check['duplicates']} (posts "
        f"with an acknowledged create's title beyond its own {check['post_duplicates']}, "
        f"toggles run twice under one key {check['vote_duplicates']})"
    )
    for name in (
        "posts_missing",
        "titles_wrong",
        "deleted_present",
        "votes_wrong",
        "comments_missing",
        "contradictions",
    ):
        if check[name]:
            line += f"\n  {name}: {check[name][:10]}"
    return line


def expected_4xx(load: MemberLoad) -> int:
    """4xx answers the load expects: its own count (a deleted post read back, a vote or DELETE
    whose earlier attempt got no answer but happened) and the 409 "still running" answers to a
    retried write, which it retries again under the write's key."""
    return load.expected_4xx + sum(s.running for s in load.samples)


def unexpected_4xx(load: MemberLoad) -> int:
    """4xx answers beyond those the load expects (expected_4xx)."""
    answered = sum(s.status is not None and 400 <= s.status < 500 for s in load.samples)
    return answered - expected_4xx(load)


def answers_line(load: MemberLoad, totals: dict) -> str:
    """Statuses, failures and 4xx of the whole run (`totals`: report.tally's)."""
    return (
        f"statuses {totals['statuses']}; 5xx {totals['server_errors']}; socket errors "
        f"{totals['socket_errors']}; 4xx: {expected_4xx(load)} expected (deleted posts read "
        f'back, 409 "still running" to a retried POST), {unexpected_4xx(load)} unexpected'
    )


def member_problems(load: MemberLoad, writes: dict) -> list[str]:
    """What fails every check of the members' load: a 4xx it did not expect, a read-back that
    did not show the member's own write, an acknowledged write lost or doubled (`writes`:
    verify_member_writes')."""
    problems = unexpected_4xx_problems(unexpected_4xx(load))
    violations = check_counts(load.checks)["violation"]
    if violations:
        problems.append(f"{violations} read-your-writes violations")
    return problems + lost_problems(writes)


def by_method(samples) -> dict[str, dict]:
    """Per method: requests, failures (no answer, or a 5xx), and answers outside 2xx-4xx."""
    table: dict[str, dict] = {}
    for sample in samples:
        row = table.setdefault(
            METHOD[sample.endpoint], {"requests": 0, "failed": 0, "4xx": 0, "errors": {}}
        )
        row["requests"] += 1
        if sample.failed:
            row["failed"] += 1
            what = sample.error or str(sample.status)
            row["errors"][what] = row["errors"].get(what, 0) + 1
        elif sample.status is not None and 400 <= sample.status < 500:
            row["4xx"] += 1
    return dict(sorted(table.items()))


def method_lines(table: dict[str, dict]) -> list[str]:
    lines = [f"  {'method':<7} {'requests':>8} {'failed':>7} {'4xx':>5}  what failed"]
    for method, row in table.items():
        lines.append(
            f"  {method:<7} {row['requests']:>8} {row['failed']:>7} {row['4xx']:>5}  "
            f"{row['errors'] or ''}"
        )
    return lines


def checks_line(checks: list[Check], label: str = "read-your-writes") -> str:
    counts = check_counts(checks)
    line = (
        f"{label}: {len(checks):,} read-backs, {counts['ok']:,} showed the write, "
        f"{counts['violation']} violations, {counts['failed']} failed reads, "
        f"{counts['unsure']} with nothing to compare (a state learned, not checked)"
    )
    for check in [c for c in checks if c.outcome == "violation"][:10]:
        line += f"\n  at {check.at:.2f} s, member {check.member}, {check.kind}: {check.detail}"
    return line
