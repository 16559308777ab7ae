"""Whether every acknowledged write is in the database, and the lines that say so.

The load records what the server acknowledged (each post created, by id; the last acknowledged
vote or unvote of every post it toggled); this compares that with what the database holds after.
"""

from __future__ import annotations

from reliability.common import TITLE_PREFIX
from reliability.database import connect
from reliability.load import Load


def verify_writes(load: Load) -> dict:
    """Compare what the server acknowledged with what the database holds now."""
    acked = load.posts_acked
    pool = list(load.ledger.state)
    with connect() as conn:
        found = {
            row[0]
            for row in conn.execute(
                "SELECT id FROM posts_post WHERE id = ANY(%s::bigint[])", [acked]
            )
        }
        unacked = conn.execute(
            "SELECT count(*) FROM posts_post WHERE owner_id = %s AND title LIKE %s "
            "AND NOT (id = ANY(%s::bigint[]))",
            [load.demo_user_id, f"{TITLE_PREFIX}{load.tag} %", acked],
        ).fetchone()[0]
        voted = {
            row[0]
            for row in conn.execute(
                "SELECT post_id FROM posts_vote WHERE user_id = %s AND post_id = ANY(%s::bigint[])",
                [load.demo_user_id, pool],
            )
        }
    states = load.ledger.state
    known = {post: state for post, state in states.items() if state is not None}
    votes_lost = sorted(p for p, state in known.items() if state and p not in voted)
    unvotes_lost = sorted(p for p, state in known.items() if not state and p in voted)
    missing = sorted(set(acked) - found)
    duplicates = len(acked) - len(set(acked))
    lost = len(missing) + len(votes_lost) + len(unvotes_lost) + len(load.ledger.contradictions)
    return {
        "posts_acked": len(acked),
        "posts_missing": missing,
        "posts_duplicate_ids": duplicates,
        "posts_committed_without_ack": unacked,
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


def writes_report(check: dict) -> str:
    lines = [
        f"acknowledged writes: {check['acked_writes']:,} ({check['posts_acked']:,} posts created, "
        f"{check['votes_acked']:,} votes, {check['unvotes_acked']:,} unvotes)",
        f"lost writes: {check['lost_writes']} (posts missing {len(check['posts_missing'])}, "
        f"votes missing {len(check['votes_lost'])}, unvotes undone {len(check['unvotes_lost'])}, "
        f"contradicted at run time {len(check['contradictions'])})",
        f"vote state checked on {check['vote_posts_checked']:,} posts; "
        f"{check['vote_posts_undetermined']} undetermined (their last request got no answer or "
        f"a 5xx, so either state is right); posts written but not acknowledged "
        f"{check['posts_committed_without_ack']} (allowed: the answer was lost, not the write)",
    ]
    for name in ("posts_missing", "votes_lost", "unvotes_lost", "contradictions"):
        if check[name]:
            lines.append(f"  {name}: {check[name][:20]}")
    if check["posts_duplicate_ids"]:
        lines.append(f"  the same post id acknowledged twice: {check['posts_duplicate_ids']}")
    return "\n".join(lines)
