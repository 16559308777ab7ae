"""gunicorn settings for production (gunicorn reads this file from the working directory).

Everything an operator tunes comes from the environment: PORT, WEB_CONCURRENCY, GUNICORN_*.
"""

import os
import shutil
import tempfile


def _cpus() -> int:
    # The CPUs this process may run on (a container's share), not every CPU of the host.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Platforms (Heroku and the like) set WEB_CONCURRENCY for the dyno's memory. Without it: the usual
# 2 x CPUs + 1, capped, since each Argon2 login hash takes ~100 MB while it runs.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * _cpus() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A worker silent this long is killed and replaced; a request may not take longer.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak can never take the service down; not so often
# that busy workers spend their time booting (at 2,000 req/s, 5,000 meant a restart every few s).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
# Load Django once in the master: a new or recycled worker is a fork, ready at once, and the
# workers share the loaded code's memory.
preload_app = True
# Logs go to stdout/stderr, where the platform collects them. The app logs one JSON line per
# request (core.middleware.RequestLogMiddleware), so gunicorn's own access log is off unless
# GUNICORN_ACCESS_LOG names a file ("-" for stdout): two lines a request cost time and say it twice.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# Who may tell gunicorn the original scheme (X-Forwarded-Proto); Django reads it itself through
# SECURE_PROXY_SSL_HEADER.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The longest request line gunicorn reads, its most (the default is 4094), as nginx's 8 KB: past
# it gunicorn itself, not the app, answers with an HTML 414. (`?search=` takes 200 characters,
# up to 2.4 KB once escaped.)
limit_request_line = 8190
# The heartbeat file on a disk can block workers; /dev/shm is memory where it exists (Docker).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No runtime control socket in $HOME: nothing uses it, and two servers on one host would collide.
control_socket_disable = True

# Prometheus metrics (core/metrics.py): each worker writes its counts to files in this directory,
# and a scrape, which reaches one worker, adds up every worker's. A fresh private directory unless
# the operator names one (empty it before each start, then). Set before the app loads
# (preload_app): prometheus_client chooses its mode when it is imported.
_private_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _private_metrics_dir = tempfile.mkdtemp(prefix="socialapi-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _private_metrics_dir


def child_exit(server, worker):
    """A dead worker's counts stay in the totals; its live gauges go (prometheus_client's rule)."""
    from prometheus_client import multiprocess  # not above: imported only once the dir is set

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """The private metrics directory goes with the server."""
    if _private_metrics_dir:
        shutil.rmtree(_private_metrics_dir, ignore_errors=True)
