"""A production-like cluster on loopback from one command (`make cluster`), and its teardown.

The main PostgreSQL (5432) as primary with a streaming replica (5434, deploy/postgres.py), Redis,
two gunicorn instances (8001, 8002) and Debian's nginx in front on 8080 (deploy/nginx.conf).
Root and Debian's packages only. Every step reuses what already runs, so `up` twice leaves one
of everything; `replica` alone is what CI runs.

    python deploy/cluster.py up | down [--drop-database] | status | replica | replica-down
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.postgres import (  # noqa: E402  (the root is on the path now)
    LOOPBACK,
    MAIN_PORT,
    ClusterError,
    accepting,
    psql,
)
from deploy.replica import Replica  # noqa: E402

RUN_DIR = Path("/var/tmp/socialapi-cluster")  # pid files, logs, the secret, static files
LOCK_FILE = Path(tempfile.gettempdir()) / "socialapi-cluster.lock"
# CLUSTER_DATABASE: another database on the same primary, made like this one when missing
# (reliability/scale_out.py runs on its own, seeded bigger before `up`).
DATABASE = os.environ.get("CLUSTER_DATABASE") or "socialapi_cluster"
REPLICA_PORT = 5434
REDIS_PORT = 6379
REDIS_DB = 3  # not 0 (the README's example) nor 1 (bench/run.py --redis-db 1 empties it)
APP_PORTS = (8001, 8002)
NGINX_PORT = 8080
NGINX = "/usr/sbin/nginx"
# Small: a few thousand posts migrate and seed in seconds.
SEED = {"users": 200, "posts": 3_000, "votes": 10_000, "comments": 1_000, "follows": 5}
# Two instances on a 2-core box: 2 workers each. Threads make gunicorn's gthread worker, the one
# that keeps nginx's upstream connections alive (the sync worker closes each one).
APP_SETTINGS = {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4"}
START_SECONDS = 60


def log(message: str) -> None:
    print(f"[cluster {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def database_url(port: int) -> str:
    return f"postgres://postgres@{LOOPBACK}:{port}/{DATABASE}"


def make_replica() -> Replica:
    return Replica("replica", REPLICA_PORT, "socialapi_replica", log)


# --- the app's environment ----------------------------------------------------------------------


def secret_key() -> str:
    """Made once per cluster, kept 0600 in the run directory (never in the repository)."""
    path = RUN_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def app_env(port: int | None = None) -> dict:
    """Production settings on plain-HTTP loopback behind one proxy; `port` for a server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "GUNICORN_"))}
    for name in ("REDIS_URL", "API_CACHE", "CONN_MAX_AGE", "BENCH_CEILING", "PORT"):
        env.pop(name, None)
    env.update(
        {
            "DATABASE_URL": database_url(MAIN_PORT),
            "REDIS_URL": f"redis://{LOOPBACK}:{REDIS_PORT}/{REDIS_DB}",
            "DEBUG": "false",
            "SECRET_KEY": secret_key(),
            "ALLOWED_HOSTS": f"{LOOPBACK},localhost",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback: no TLS anywhere
            "NUM_PROXIES": "1",  # nginx adds the one X-Forwarded-For entry to believe
            "STATIC_ROOT": str(RUN_DIR / "static"),
            "PYTHONUNBUFFERED": "1",
            **APP_SETTINGS,
        }
    )
    if port is not None:
        # Servers only: migrate and seed_demo read back what they wrote, from the primary.
        env.update(
            PORT=str(port),
            DATABASE_REPLICA_URLS=database_url(REPLICA_PORT),
            FORWARDED_ALLOW_IPS=LOOPBACK,
        )
    return env


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=app_env(), check=True, timeout=900
    )


def ensure_database() -> None:
    """socialapi_cluster on the primary: created, migrated, and seeded small if it has no posts."""
    if not psql(MAIN_PORT, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"):
        log(f"creating database {DATABASE} on the primary")
        psql(MAIN_PORT, f'CREATE DATABASE "{DATABASE}"')
    log("migrate")
    manage("migrate", "--noinput", "--verbosity=0")
    if post_count() == 0:
        log("seed_demo: " + ", ".join(f"{n:,} {k}" for k, n in SEED.items()))
        manage("seed_demo", *(f"--{k}={n}" for k, n in SEED.items()), "--seed=1", "--no-progress")
    log("collectstatic")
    manage("collectstatic", "--noinput", "--verbosity=0")


def post_count(port: int = MAIN_PORT) -> int | None:
    try:
        return int(psql(port, "SELECT count(*) FROM posts_post", database=DATABASE)[0][0])
    except ClusterError:
        return None


# --- Redis ---------------------------------------------------------------------------------------


def redis_client():
    import redis  # the venv's (django-redis needs it)

    return redis.Redis(host=LOOPBACK, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2)


def redis_up() -> bool:
    try:
        return redis_client().ping()
    except Exception:  # redis.ConnectionError and friends: it does not answer
        return False


def ensure_redis() -> None:
    """Debian's redis-server answering on 6379; started (and marked ours to stop) if it is not."""
    if redis_up():
        return
    log("starting Debian's redis-server")
    if Path("/etc/init.d/redis-server").exists():
        subprocess.run(["service", "redis-server", "start"], check=True, timeout=60)
    else:
        subprocess.run(["redis-server", "/etc/redis/redis.conf"], check=True, timeout=60)
    (RUN_DIR / "redis-started").touch()
    wait_for("redis-server to answer", redis_up)


# --- processes: gunicorn and nginx ---------------------------------------------------------------


def wait_for(what: str, check, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise ClusterError(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.2)


def http_status(port: int, path: str = "/healthz") -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    try:
        with opener.open(f"http://{LOOPBACK}:{port}{path}", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def our_pid(pidfile: Path, *marks: str) -> int | None:
    """The pid in `pidfile` if that process lives and its command line has every mark."""
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if all(mark in cmdline for mark in marks) else None


def children(pid: int) -> int:
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            count += int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid
    return count


def app_pid(port: int) -> int | None:
    return our_pid(RUN_DIR / f"gunicorn-{port}.pid", "gunicorn", f"{LOOPBACK}:{port}")


def start_app(port: int) -> subprocess.Popen | None:
    """gunicorn.conf.py on 127.0.0.1:port in its own session, unless ours already runs there."""
    if app_pid(port) is not None:
        return None
    if http_status(port) is not None:
        raise ClusterError(f"something else answers on {LOOPBACK}:{port}: stop it first")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    argv = [str(gunicorn), "socialapi.wsgi", "-c", "gunicorn.conf.py"]
    argv += ["--bind", f"{LOOPBACK}:{port}", "--pid", str(RUN_DIR / f"gunicorn-{port}.pid")]
    log(f"starting gunicorn on {LOOPBACK}:{port} (log: {RUN_DIR}/gunicorn-{port}.log)")
    with (RUN_DIR / f"gunicorn-{port}.log").open("ab") as output:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=app_env(port),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this script; its group holds every worker
        )


def wait_app(port: int, process: subprocess.Popen | None) -> None:
    def healthy() -> bool:
        if process is not None and process.poll() is not None:
            tail = (RUN_DIR / f"gunicorn-{port}.log").read_text(errors="replace")[-2000:]
            raise ClusterError(f"gunicorn on {port} exited with {process.returncode}:\n{tail}")
        return http_status(port) == 200

    wait_for(f"gunicorn on {LOOPBACK}:{port} to answer /healthz with 200", healthy)


def stop_pid(pid: int, sig: int, what: str, seconds: float = 40) -> None:
    """Signal `pid` (a group leader of ours), wait until it is gone, then end its group."""
    log(f"stopping {what} (pid {pid})")
    with suppress(ProcessLookupError):
        os.kill(pid, sig)
        deadline = time.monotonic() + seconds
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            with suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # what is left of the group: workers of a master gone


def nginx_conf() -> Path:
    return RUN_DIR / "nginx.conf"


def nginx_pid() -> int | None:
    return our_pid(RUN_DIR / "nginx.pid", "nginx", str(nginx_conf()))


def render_nginx() -> str:
    """deploy/nginx.conf with this cluster's address, upstreams and run directory."""
    values = {
        "@UPSTREAM_SERVERS@": "\n".join(
            f"        server {LOOPBACK}:{port} max_fails=1 fail_timeout=10s;" for port in APP_PORTS
        ),
        "@LISTEN@": f"{LOOPBACK}:{NGINX_PORT}",
        "@SERVER_NAME@": "_",
        "@RUN_DIR@": str(RUN_DIR),
    }
    lines = []
    for line in (ROOT / "deploy" / "nginx.conf").read_text().splitlines():
        if not line.lstrip().startswith("#"):  # the comments name the placeholders
            for name, value in values.items():
                line = value if line.strip() == name else line.replace(name, value)
            if left := re.findall(r"@[A-Z_]+@", line):
                raise ClusterError(f"deploy/nginx.conf: nothing fills in {left}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def nginx(*args: str) -> None:
    argv = [
        NGINX,
        "-c",
        str(nginx_conf()),
        "-p",
        str(RUN_DIR),
        "-e",
        str(RUN_DIR / "nginx-error.log"),
    ]
    result = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise ClusterError(f"{' '.join(argv + list(args))}: {result.stderr.strip()}")


def ensure_nginx() -> None:
    """The rendered config checked with `nginx -t`, then nginx started, or reloaded with it."""
    if not Path(NGINX).exists():
        raise ClusterError("nginx is not installed: apt-get install nginx")
    (RUN_DIR / "nginx-temp").mkdir(exist_ok=True)
    nginx_conf().write_text(render_nginx())
    nginx("-t", "-q")
    if nginx_pid() is not None:
        log("reloading nginx with the rendered deploy/nginx.conf")
        nginx("-s", "reload")
    else:
        if http_status(NGINX_PORT) is not None:
            raise ClusterError(f"something else answers on {LOOPBACK}:{NGINX_PORT}: stop it first")
        log(f"starting nginx on {LOOPBACK}:{NGINX_PORT} (config: {nginx_conf()})")
        nginx()


# --- the commands --------------------------------------------------------------------------------


def up(args) -> int:
    RUN_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)  # nginx's workers use its temp dirs
    if not accepting(MAIN_PORT):
        raise ClusterError(f"the main PostgreSQL does not answer on {LOOPBACK}:{MAIN_PORT}")
    make_replica().ensure()
    ensure_redis()
    ensure_database()
    started = {port: start_app(port) for port in APP_PORTS}
    for port, process in started.items():
        wait_app(port, process)
    ensure_nginx()
    wait_for("GET /healthz through nginx to answer 200", lambda: http_status(NGINX_PORT) == 200)
    log(f"up: http://{LOOPBACK}:{NGINX_PORT}/ (demo@example.com / demo-password-123)")
    return status(args)


def down(args) -> int:
    if (pid := nginx_pid()) is not None:
        stop_pid(pid, signal.SIGQUIT, "nginx", seconds=15)  # graceful: open requests finish
    with ThreadPoolExecutor() as pool:  # each finishes its requests: both at once
        for port in APP_PORTS:
            if (pid := app_pid(port)) is not None:
                pool.submit(stop_pid, pid, signal.SIGTERM, f"gunicorn on {port}")
    make_replica().remove()
    if redis_up():
        redis_client().flushdb()  # the cache of this cluster's database only
        if (RUN_DIR / "redis-started").exists():
            log("stopping the redis-server this cluster started")
            subprocess.run(["service", "redis-server", "stop"], check=False, timeout=60)
    if args.drop_database:
        log(f"dropping database {DATABASE}")
        psql(MAIN_PORT, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    log("down")
    return 0


def status(args) -> int:
    """One line per part; non-zero when any part is down."""
    lines = []

    def line(part: str, ok: bool, detail: str) -> None:
        lines.append((ok, f"{part:<9} {'up' if ok else 'DOWN':<5} {detail}"))

    posts = post_count()
    line("primary", accepting(MAIN_PORT), f"{LOOPBACK}:{MAIN_PORT} {DATABASE}: {posts} posts")
    replica = make_replica()
    lag = replica.lag()
    if lag is None:
        line("replica", False, f"{LOOPBACK}:{REPLICA_PORT}: not streaming from the primary")
    else:
        line(
            "replica",
            lag["state"] == "streaming",
            f"{LOOPBACK}:{REPLICA_PORT} {lag['state']} (slot {replica.slot}), lag "
            f"{lag['lag_bytes']:,} bytes, {lag['lag_seconds']:.3f} s; replayed "
            f"{lag['replayed']}, {post_count(REPLICA_PORT)} posts",
        )
    keys = redis_client().dbsize() if redis_up() else None
    line("redis", keys is not None, f"{LOOPBACK}:{REDIS_PORT}/{REDIS_DB}: {keys} keys")
    for port in APP_PORTS:
        pid, code = app_pid(port), http_status(port)
        workers = children(pid) if pid else 0
        detail = f"{LOOPBACK}:{port} pid {pid}, {workers} workers, /healthz {code}"
        line("gunicorn", pid is not None and code == 200, detail)
    pid, code = nginx_pid(), http_status(NGINX_PORT)
    line(
        "nginx",
        pid is not None and code == 200,
        f"{LOOPBACK}:{NGINX_PORT} pid {pid}, /healthz {code}",
    )
    print("\n".join(text for _, text in lines))
    return 0 if all(ok for ok, _ in lines) else 1


def replica(args) -> int:
    make_replica().ensure()
    return 0


def replica_down(args) -> int:
    make_replica().remove()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="bring the cluster up, or what of it is down")
    drop = commands.add_parser("down", help="stop and remove everything but the database")
    drop.add_argument("--drop-database", action="store_true", help=f"drop {DATABASE} too")
    commands.add_parser("status", help="one line per part; exits 1 if one is down")
    commands.add_parser("replica", help="only the streaming replica (what CI makes)")
    commands.add_parser("replica-down", help="drop the replica and its slot")
    args = parser.parse_args()
    action = {
        "up": up,
        "down": down,
        "status": status,
        "replica": replica,
        "replica-down": replica_down,
    }[args.command]
    if args.command != "status" and os.geteuid() != 0:
        print("cluster: run as root (pg_createcluster, nginx, redis-server)", file=sys.stderr)
        return 2
    try:
        if args.command == "status":
            return status(args)
        with LOCK_FILE.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one `up` or `down` at a time
            return action(args)
    except (ClusterError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"cluster {args.command}: {error}", file=sys.stderr)
        if args.command == "up":
            print("what started is left running; `make cluster-down` removes it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    venv_python = ROOT / ".venv" / "bin" / "python"
    if sys.prefix == sys.base_prefix and venv_python.exists():  # the project's venv: Django, redis
        os.execv(venv_python, [str(venv_python), *sys.argv])
    sys.exit(main())
