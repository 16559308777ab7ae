"""What every reliability module shares: paths, the private cluster's address, the log line.

The checks run against a PostgreSQL cluster of their own on port 5433, never the machine's main
cluster on 5432: the database fault restarts it, and other people's tests use the main one.
"""

from __future__ import annotations

import sys
from datetime import datetime

from bench.common import LOOPBACK, ROOT
from bench.probe import BENCH_TITLE_PREFIX

HERE = ROOT / "reliability"
LOGS = HERE / "logs"
CLUSTER = "reliability"
PG_PORT = 5433
PG_USER = "postgres"
DATABASE = "socialapi_reliability"
DSN = f"postgresql://{PG_USER}@{LOOPBACK}:{PG_PORT}/{DATABASE}"
# Posts the load creates: bench/probe.py's cleanup deletes the demo account's posts so titled.
TITLE_PREFIX = BENCH_TITLE_PREFIX + "reliability "


def log(message: str) -> None:
    print(f"[reliability {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)
