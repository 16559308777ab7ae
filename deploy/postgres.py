"""Debian PostgreSQL clusters of our own beside the machine's main one (pg_createcluster).

reliability/ uses one on port 5433 (its database fault stops it); deploy/replica.py makes one a
streaming replica of the main cluster with pg_basebackup. Every action stops or starts a whole
server, so none is ever aimed at the main cluster itself.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

LOOPBACK = "127.0.0.1"
MAIN_CLUSTER = "main"
MAIN_PORT = 5432


class ClusterError(RuntimeError):
    """A cluster could not be made, started or stopped; the message says why."""


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def command(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} failed: {(result.stderr or result.stdout).strip()}")
    return result


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((LOOPBACK, port)) == 0


def accepting(port: int) -> bool:
    """pg_isready: the server on this port accepts connections."""
    result = subprocess.run(
        ["pg_isready", "-q", "-h", LOOPBACK, "-p", str(port)], check=False, timeout=30
    )
    return result.returncode == 0


def psql(port: int, sql: str, database: str = "postgres", timeout: float = 30) -> list[list[str]]:
    """The rows of one SQL statement run as postgres over loopback, each a list of text fields."""
    argv = ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    argv += ["-h", LOOPBACK, "-p", str(port), "-U", "postgres", "-d", database, "-c", sql]
    return [line.split("\t") for line in command(argv, timeout).stdout.splitlines() if line]


def newest_version() -> str:
    """The newest PostgreSQL server installed from Debian's packages ("15")."""
    for tool in ("pg_createcluster", "pg_ctlcluster", "pg_lsclusters", "pg_isready"):
        if shutil.which(tool) is None:
            raise ClusterError(
                f"{tool} is not installed: apt-get install postgresql postgresql-client"
            )
    versions = sorted(
        (p.name for p in Path("/usr/lib/postgresql").glob("*") if (p / "bin/postgres").exists()),
        key=lambda v: [int(x) for x in v.split(".") if x.isdigit()],
    )
    if not versions:
        raise ClusterError("no PostgreSQL server is installed: apt-get install postgresql")
    return versions[-1]


def clusters() -> list[dict]:
    """pg_lsclusters as rows: version, name, port, status."""
    rows = []
    for line in command(["pg_lsclusters", "--no-header"], timeout=30).stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            rows.append(
                {"version": parts[0], "name": parts[1], "port": int(parts[2]), "status": parts[3]}
            )
    return rows


class Cluster:
    """Debian's `pg_createcluster <version> <name> --port <port>`, trust auth, loopback only."""

    def __init__(self, name: str, port: int, log: Callable[[str], None] = stderr_log):
        if name == MAIN_CLUSTER or port == MAIN_PORT:
            raise ClusterError(f"refusing to manage cluster {name!r} on port {port}")
        self.name = name
        self.port = port
        self.log = log
        self.version = newest_version()

    @property
    def config_dir(self) -> Path:
        return Path("/etc/postgresql") / self.version / self.name

    @property
    def data_dir(self) -> Path:
        return Path("/var/lib/postgresql") / self.version / self.name

    def status(self) -> dict | None:
        """This cluster's row of pg_lsclusters (port, status); None if it does not exist."""
        for row in clusters():
            if row["version"] == self.version and row["name"] == self.name:
                return row
        return None

    def create(self, initdb_options: tuple[str, ...] = ()) -> None:
        """A new, empty cluster listening on loopback only."""
        if os.geteuid() != 0:
            raise ClusterError("creating a PostgreSQL cluster needs root")
        taken = [c for c in clusters() if c["port"] == self.port]
        if taken or port_open(self.port):
            raise ClusterError(
                f"port {self.port} is taken ({taken or 'something listens there'}); "
                f"cluster {self.name} needs it"
            )
        self.log(f"creating PostgreSQL cluster {self.version}/{self.name} on port {self.port}")
        command(
            ["pg_createcluster", self.version, self.name, "--port", str(self.port)]
            + ["--", "--auth=trust", *initdb_options],
            timeout=300,
        )
        # Loopback only. (pg_createcluster -o quotes an address as if it were a number.)
        with (self.config_dir / "postgresql.conf").open("a") as settings:
            settings.write(f"listen_addresses = '{LOOPBACK}'  # deploy/postgres.py\n")

    def ensure_running(self) -> None:
        """Create the cluster if it is missing, start it if it is down, wait until it answers."""
        if os.geteuid() != 0:
            raise ClusterError("creating and restarting a PostgreSQL cluster needs root")
        row = self.status()
        if row is None:
            self.create()
        elif row["port"] != self.port:
            raise ClusterError(
                f"cluster {self.version}/{self.name} exists on port {row['port']}, not "
                f"{self.port}: drop it first"
            )
        if not self.ready():
            self.start()

    def ready(self) -> bool:
        return accepting(self.port)

    def start(self) -> None:
        self._ctl("start")
        self.wait_ready(60)

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def wait_ready(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.ready():
            if time.monotonic() > deadline:
                raise ClusterError(f"cluster {self.name} did not answer within {seconds:.0f} s")
            time.sleep(0.1)

    def drop(self) -> None:
        if self.status() is not None:
            self.log(f"dropping PostgreSQL cluster {self.version}/{self.name} and its data")
            command(["pg_dropcluster", "--stop", self.version, self.name], timeout=120)

    def _ctl(self, action: str, *options: str) -> None:
        # --skip-systemctl-redirect: no systemd here, and the unit would be the wrong cluster's.
        argv = ["pg_ctlcluster", "--skip-systemctl-redirect", *options]
        command([*argv, self.version, self.name, action], timeout=120)
