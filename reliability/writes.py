"""Whether every acknowledged write is in the database exactly once, and the lines that say so.

Every POST the load sends is a logical write under its own `Idempotency-Key` (keyed.py), retried
under that key until an answer settles it. Each post's title carries its key, so the database
shows how many rows each logical write made: none for an acknowledged one is a lost write, more
than one a duplicate. Votes toggle one row, so a duplicate there is a retried toggle that ran
again instead of being replayed; and every acknowledged key must be kept by the server with the
very answer the client acted on (core.idempotency keeps it in the effect's transaction).
"""

from __future__ import annotations

from collections import Counter

from reliability.common import TITLE_PREFIX
from reliability.database import connect
from reliability.keyed import writes_tally
from reliability.load import Load


def verify_writes(load: Load) -> dict:
    """Compare what the server acknowledged with what the database holds now."""
    acked = load.posts_acked
    pool = list(load.ledger.state)
    creates = [w for w in load.writes if w.endpoint == "create"]
    acked_keys = {w.key: w.status for w in load.writes if w.acked}
    with connect() as conn:
        found = {
            row[0]
            for row in conn.execute(
                "SELECT id FROM posts_post WHERE id = ANY(%s::bigint[])", [acked]
            )
        }
        rows = Counter(
            dict(
                conn.execute(
                    "SELECT title, count(*) FROM posts_post WHERE owner_id = %s AND title LIKE %s "
                    "GROUP BY title",
                    [load.demo_user_id, f"{TITLE_PREFIX}{load.tag} %"],
                ).fetchall()
            )
        )
        voted = {
            row[0]
            for row in conn.execute(
                "SELECT post_id FROM posts_vote WHERE user_id = %s AND post_id = ANY(%s::bigint[])",
                [load.demo_user_id, pool],
            )
        }
        kept = dict(
            conn.execute(
                "SELECT key, status FROM core_idempotencykey WHERE scope = %s "
                "AND key = ANY(%s::text[])",
                [f"user:{load.demo_user_id}", list(acked_keys)],
            ).fetchall()
        )
    states = load.ledger.state
    known = {post: state for post, state in states.items() if state is not None}
    votes_lost = sorted(p for p, state in known.items() if state and p not in voted)
    unvotes_lost = sorted(p for p, state in known.items() if not state and p in voted)
    missing = sorted(set(acked) - found)
    titles_lost = [w.key for w in creates if w.acked and not rows[w.mark]]
    marks = {w.mark for w in creates}
    post_duplicates = sum(max(0, rows[w.mark] - 1) for w in creates)
    duplicates = post_duplicates + load.ledger.duplicates + len(acked) - len(set(acked))
    lost = (
        len(set(missing) | set(titles_lost))
        + len(votes_lost)
        + len(unvotes_lost)
        + len(load.ledger.contradictions)
    )
    return {
        **writes_tally(load.writes),
        "posts_acked": len(acked),
        "posts_missing": missing,
        "posts_titles_missing": titles_lost,
        "post_duplicates": post_duplicates,
        "vote_duplicates": load.ledger.duplicates,
        "duplicates": duplicates,
        "posts_committed_without_ack": sum(bool(rows[w.mark]) for w in creates if not w.acked),
        "posts_unknown": sum(n for title, n in rows.items() if title not in marks),
        "keys_not_kept": sorted(k for k, status in acked_keys.items() if kept.get(k) != status),
        "votes_acked": load.ledger.votes_acked,
        "unvotes_acked": load.ledger.unvotes_acked,
        "vote_posts_checked": len(known),
        "vote_posts_undetermined": len(states) - len(known),
        "votes_lost": votes_lost,
        "unvotes_lost": unvotes_lost,
        "contradictions": load.ledger.contradictions,
        "acked_writes": len(acked) + load.ledger.votes_acked + load.ledger.unvotes_acked,
        "lost_writes": lost,
    }


def lost_problems(check: dict) -> list[str]:
    """What fails any check (this module's or member_report.py's): a write lost or doubled."""
    problems = []
    if check["lost_writes"]:
        problems.append(f"{check['lost_writes']} lost writes")
    if check["duplicates"]:
        problems.append(f"{check['duplicates']} duplicate writes")
    return problems


def writes_problems(check: dict) -> list[str]:
    """What fails a check: a write lost or doubled, or a key the server did not keep."""
    problems = lost_problems(check)
    if check["keys_not_kept"]:
        problems.append(f"{len(check['keys_not_kept'])} acknowledged keys not kept as answered")
    if check["posts_unknown"]:
        problems.append(f"{check['posts_unknown']} posts no logical write accounts for")
    return problems


def keyed_line(check: dict) -> str:
    """The keyed writes (keyed.writes_tally's figures): sent, retried, replayed, settled."""
    return (
        f"logical writes: {check['logical_writes']:,} (each POST under its own Idempotency-Key); "
        f"retries sent: {check['retries_sent']:,} (for {check['retried_writes']:,} writes); "
        f"replays received: {check['replays']:,}; acknowledged: {check['acknowledged']:,}; "
        f"unsettled after retries: {check['unsettled']}"
    )


def writes_report(check: dict) -> str:
    lines = [
        keyed_line(check),
        f"acknowledged writes: {check['acked_writes']:,} ({check['posts_acked']:,} posts created, "
        f"{check['votes_acked']:,} votes, {check['unvotes_acked']:,} unvotes); keys kept with the "
        f"answer acted on: {check['acknowledged'] - len(check['keys_not_kept']):,} of "
        f"{check['acknowledged']:,}",
        f"lost writes: {check['lost_writes']} (posts missing "
        f"{len(set(check['posts_missing']) | set(check['posts_titles_missing']))}, "
        f"votes missing {len(check['votes_lost'])}, unvotes undone {len(check['unvotes_lost'])}, "
        f"contradicted at run time {len(check['contradictions'])})",
        f"duplicates: {check['duplicates']} (post rows beyond one per logical write "
        f"{check['post_duplicates']}, toggles run twice under one key "
        f"{check['vote_duplicates']})",
        f"vote state checked on {check['vote_posts_checked']:,} posts; "
        f"{check['vote_posts_undetermined']} undetermined (their last request got no answer or "
        f"a 5xx, so either state is right); posts written but not acknowledged "
        f"{check['posts_committed_without_ack']} (allowed: the answer was lost, not the write)",
    ]
    for name in (
        "posts_missing",
        "posts_titles_missing",
        "votes_lost",
        "unvotes_lost",
        "contradictions",
        "keys_not_kept",
    ):
        if check[name]:
            lines.append(f"  {name}: {check[name][:20]}")
    return "\n".join(lines)
