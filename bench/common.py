"""What every bench module shares: paths, loopback, the error type, the log line, preconditions."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
RESULTS = BENCH / "results"
LOOPBACK = "127.0.0.1"


class HarnessError(Exception):
    """A precondition failed; the message says what to do."""


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def fmt(value, spec: str = ".1f", missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def ensure_venv() -> None:
    """Re-run under the project's .venv when started with another Python."""
    venv_python = ROOT / ".venv" / "bin" / "python"
    if sys.prefix == sys.base_prefix and venv_python.exists():
        os.execv(venv_python, [str(venv_python), *sys.argv])
    try:
        import django  # noqa: F401
        import gunicorn  # noqa: F401
    except ImportError as error:
        raise HarnessError(
            f"{error.name} is not installed for {sys.executable}: run `make install` first "
            "(or `.venv/bin/pip install -r requirements.txt`)"
        ) from None


def ensure_tools() -> None:
    missing = {
        "wrk": "apt-get install wrk",
        "psql": "apt-get install postgresql-client",
        "createdb": "apt-get install postgresql-client",
        "pg_isready": "apt-get install postgresql-client",
    }
    for tool, fix in missing.items():
        if shutil.which(tool) is None:
            raise HarnessError(f"{tool} is not installed: {fix}")
