"""Access tokens for a run's members, minted by the login's own service; run as a subprocess.

Logging 200 members in over HTTP costs 200 Argon2 hashes of CPU before the load and, run after
run, meets the login throttle (10 an hour per email); `tokens_issue` is what POST /login
returns once the password has been checked. It runs with a server's environment, so the tokens
carry that server's signature.

    python reliability/member_tokens.py RUN_DIR

reads RUN_DIR/members.txt (bench/probe.py prepare: an email, then its vote pool, per line) and
writes RUN_DIR/member_tokens.txt (mixed.lua's: the token, then the pool) and
RUN_DIR/members.json ([{"email", "id", "token", "pool"}]); prints {"members": n} last.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    run_dir = Path(sys.argv[1])
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialapi.settings")
    import django

    django.setup()
    from accounts.models import User
    from accounts.services import tokens_issue

    pools = {}
    for line in (run_dir / "members.txt").read_text().splitlines():
        email, *ids = line.split()
        pools[email] = [int(i) for i in ids]
    users = {user.email: user for user in User.objects.filter(email__in=pools)}
    members = [
        {
            "email": email,
            "id": users[email].pk,
            "token": tokens_issue(user=users[email])["access_token"],
            "pool": pool,
        }
        for email, pool in pools.items()
        if email in users
    ]
    (run_dir / "member_tokens.txt").write_text(
        "".join(" ".join(map(str, [m["token"], *m["pool"]])) + "\n" for m in members)
    )
    (run_dir / "members.json").write_text(json.dumps(members))
    print(json.dumps({"members": len(members)}))


if __name__ == "__main__":
    main()
