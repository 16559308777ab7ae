"""A streaming replica of the main PostgreSQL cluster, made with pg_basebackup on a slot of its own.

`make cluster` and CI (deploy/cluster.py replica) use it: `Primary` prepares the main cluster as a
replication source over SQL only (it is never stopped or dropped), `Replica` is a Debian cluster
of ours (deploy/postgres.py) that streams from it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from deploy.postgres import (
    LOOPBACK,
    MAIN_CLUSTER,
    MAIN_PORT,
    Cluster,
    ClusterError,
    command,
    psql,
    stderr_log,
)

REPLICATION_RULE = f"host replication all {LOOPBACK}/32 trust"
# A hot standby refuses to start while one of these is below the primary's value.
STANDBY_MINIMUMS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)
# Settings a primary's ALTER SYSTEM may hold that must not follow its copy to the replica.
OWN_SETTINGS = ("port", "listen_addresses")
# conf.d file of a replica made here: what tells our replica from someone else's cluster.
REPLICA_CONF = "socialapi-replica.conf"


def _is_replication_rule(line: str) -> bool:
    fields = line.split("#", 1)[0].split()
    return (
        len(fields) >= 4
        and fields[0] in ("host", "hostnossl")
        and "replication" in fields[1].split(",")
        and fields[3] in (f"{LOOPBACK}/32", LOOPBACK)
    )


class Primary:
    """The main cluster as a replication source, over SQL only: never stopped, never dropped."""

    def __init__(self, port: int = MAIN_PORT, log: Callable[[str], None] = stderr_log):
        self.port = port
        self.log = log

    def value(self, sql: str) -> str | None:
        rows = psql(self.port, sql)
        return rows[0][0] if rows else None

    def version(self) -> str:
        """The primary's major version ("15"): its replica must run the same one."""
        return self.value("SELECT current_setting('server_version_num')::int / 10000")

    def allow_replication(self) -> None:
        """A trusted loopback line for replication connections in pg_hba.conf (+ reload), once."""
        hba = Path(self.value("SHOW hba_file"))
        if not any(_is_replication_rule(line) for line in hba.read_text().splitlines()):
            self.log(f"allowing replication connections from {LOOPBACK} in {hba}")
            with hba.open("a") as rules:
                rules.write(f"{REPLICATION_RULE}  # deploy/postgres.py: the streaming replica\n")
            self.value("SELECT pg_reload_conf()")
        # The reload is a signal: wait until a replication connection is let in.
        deadline = time.monotonic() + 10
        while True:
            try:
                command(
                    ["psql", "-X", "-q", "-c", "IDENTIFY_SYSTEM", "-d"]
                    + [f"host={LOOPBACK} port={self.port} user=postgres replication=true"],
                    timeout=30,
                )
                return
            except ClusterError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def slot(self, name: str) -> dict | None:
        rows = psql(
            self.port,
            "SELECT active, coalesce(active_pid, 0) FROM pg_replication_slots "
            f"WHERE slot_name = {_literal(name)}",
        )
        return {"active": rows[0][0] == "t", "active_pid": int(rows[0][1])} if rows else None

    def create_slot(self, name: str) -> None:
        """A physical slot holding WAL from now on (reserved at once, not at first use)."""
        if self.slot(name) is None:
            self.log(f"creating replication slot {name} on the primary (port {self.port})")
            psql(self.port, f"SELECT pg_create_physical_replication_slot({_literal(name)}, true)")

    def drop_slot(self, name: str, seconds: float = 30) -> None:
        """Drop the slot, ending the WAL sender that still uses it: else WAL piles up for it."""
        deadline = time.monotonic() + seconds
        while (slot := self.slot(name)) is not None:
            try:
                if slot["active"]:
                    psql(self.port, f"SELECT pg_terminate_backend({slot['active_pid']})")
                else:
                    self.log(f"dropping replication slot {name} on the primary")
                    psql(self.port, f"SELECT pg_drop_replication_slot({_literal(name)})")
            except ClusterError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def replication(self, slot: str) -> dict | None:
        """The WAL sender of `slot`: its state and how far the replica's replay is behind."""
        rows = psql(
            self.port,
            "SELECT s.state, pg_wal_lsn_diff(pg_current_wal_lsn(), s.replay_lsn)::bigint, "
            "coalesce(extract(epoch FROM s.replay_lag), 0), s.replay_lsn "
            "FROM pg_replication_slots r JOIN pg_stat_replication s ON s.pid = r.active_pid "
            f"WHERE r.slot_name = {_literal(slot)}",
        )
        if not rows:
            return None
        state, lag_bytes, lag_seconds, replay_lsn = rows[0]
        return {
            "state": state,
            "lag_bytes": int(lag_bytes or 0),
            "lag_seconds": float(lag_seconds),
            "replay_lsn": replay_lsn,
        }


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Replica(Cluster):
    """A hot standby of the main cluster: pg_basebackup through a replication slot, streaming."""

    def __init__(
        self,
        name: str = "replica",
        port: int = 5434,
        slot: str = "socialapi_replica",
        log: Callable[[str], None] = stderr_log,
    ):
        super().__init__(name, port, log)
        if not slot.replace("_", "").isalnum() or not slot.islower():
            raise ClusterError(f"a slot name is lower-case letters, digits and _: {slot!r}")
        self.slot = slot
        self.primary = Primary(log=log)
        self.version = self.primary.version()

    def ensure(self) -> str:
        """Reuse a replica that streams, else build it afresh: "reused" or "built"."""
        self.primary.allow_replication()
        row = self.status()
        if row is not None:
            if not (self.config_dir / "conf.d" / REPLICA_CONF).exists():
                raise ClusterError(
                    f"cluster {self.version}/{self.name} exists but deploy/postgres.py did not "
                    "make it: drop it (pg_dropcluster) or name the replica differently"
                )
            if row["port"] != self.port:
                raise ClusterError(f"cluster {self.name} listens on {row['port']}, not {self.port}")
            problem = self._reuse_problem()
            if problem is None:
                self.log(f"replica {self.version}/{self.name} on port {self.port} streams: reused")
                return "reused"
            self.log(f"rebuilding replica {self.version}/{self.name}: {problem}")
            self.remove()
        self.build()
        return "built"

    def _reuse_problem(self) -> str | None:
        if self.primary.slot(self.slot) is None:
            return f"its slot {self.slot} is gone from the primary"
        try:
            if not self.ready():
                self.start()
            self.wait_streaming(15)
        except ClusterError as error:
            return str(error)
        return None

    def build(self) -> None:
        """pg_createcluster, then its data replaced by a base backup of the primary; started."""
        started = time.monotonic()
        self.primary.create_slot(self.slot)
        try:
            # initdb's files are thrown away at once: no need to flush them to disk.
            self.create(initdb_options=("--no-sync",))
            self._write_settings()
            self._base_backup()
            self.start()
            self.wait_streaming(60)
        except BaseException:
            self.log("the replica could not be built: dropping what was made of it")
            self.drop()
            self.primary.drop_slot(self.slot)
            raise
        self.log(f"replica streams from the primary ({time.monotonic() - started:.1f} s)")

    def _write_settings(self) -> None:
        minimums = "".join(
            f"{name} = {self.primary.value(f'SHOW {name}')}\n" for name in STANDBY_MINIMUMS
        )
        (self.config_dir / "conf.d" / REPLICA_CONF).write_text(
            f"# deploy/postgres.py: a hot standby of {self.version}/{MAIN_CLUSTER} through slot "
            f"{self.slot}; dropped with this cluster.\n"
            "hot_standby = on\n"
            "# The primary keeps row versions a query here still reads: fewer cancellations.\n"
            "hot_standby_feedback = on\n"
            "# At least the primary's, or a hot standby refuses to start.\n" + minimums
        )

    def _base_backup(self) -> None:
        data = self.data_dir
        main = Path("/var/lib/postgresql") / self.version / MAIN_CLUSTER
        if data.resolve() == main.resolve() or self.name == MAIN_CLUSTER:
            raise ClusterError(f"refusing to replace {data}: it is the main cluster's")
        # Emptied, not removed: pg_createcluster made it postgres's, 0700, in a root-owned parent.
        for entry in data.iterdir():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        self.log(f"pg_basebackup of {LOOPBACK}:{MAIN_PORT} into {data}")
        pg_basebackup = f"/usr/lib/postgresql/{self.version}/bin/pg_basebackup"
        # As postgres: the files are its own, the directory 0700. --no-sync: the server flushes
        # the whole data directory itself when it first starts from a backup.
        command(
            ["runuser", "-u", "postgres", "--", pg_basebackup, "-h", LOOPBACK]
            + ["-p", str(MAIN_PORT), "-U", "postgres", "-D", str(data), "-R", "-X", "stream"]
            + ["-S", self.slot, "--checkpoint=fast", "--no-sync"],
            timeout=3600,
        )
        data.chmod(0o700)
        auto = data / "postgresql.auto.conf"
        kept = [
            line
            for line in auto.read_text().splitlines(keepends=True)
            if line.split("=", 1)[0].strip() not in OWN_SETTINGS
        ]
        auto.write_text("".join(kept))

    def streaming(self) -> bool:
        sender = self.primary.replication(self.slot)
        if sender is None or sender["state"] != "streaming":
            return False
        return psql(self.port, "SELECT pg_is_in_recovery()") == [["t"]]

    def wait_streaming(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.streaming():
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"replica {self.name} does not stream from the primary through slot "
                    f"{self.slot} after {seconds:.0f} s (see {self.log_file})"
                )
            time.sleep(0.1)

    @property
    def log_file(self) -> Path:
        return Path("/var/log/postgresql") / f"postgresql-{self.version}-{self.name}.log"

    def lag(self) -> dict | None:
        """Replay lag as the primary sees it, and the replica's replayed and received WAL."""
        sender = self.primary.replication(self.slot)
        if sender is None or not self.ready():
            return None
        rows = psql(self.port, "SELECT pg_last_wal_replay_lsn(), pg_last_wal_receive_lsn()")
        return {**sender, "replayed": rows[0][0], "received": rows[0][1]}

    def remove(self) -> None:
        """Drop the replica cluster, then its slot on the primary (else WAL piles up there)."""
        if self.status() is not None and not (self.config_dir / "conf.d" / REPLICA_CONF).exists():
            raise ClusterError(f"cluster {self.name} was not made by deploy/postgres.py: kept")
        if self.ready():
            self.stop("immediate")  # its data goes next: no shutdown checkpoint to wait for
        self.drop()
        self.primary.drop_slot(self.slot)
