"""GET /metrics in Prometheus's format, for the monitoring system only, and the project's counters.

django-prometheus counts requests, their latency and the queries per database alias
(settings.MIDDLEWARE, the DATABASES engines); the read cache and the throttles count here.
Under gunicorn every worker writes its counts to PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py)
and a scrape, whichever worker answers it, adds them all up.
"""

import ipaddress
import secrets

from django.conf import settings
from django.http import JsonResponse
from django.urls import get_resolver
from django.views.decorators.csrf import csrf_exempt
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Counter
from rest_framework.throttling import BaseThrottle

READ_CACHE = Counter(
    "socialapi_read_cache",
    "Entries looked up in the read cache (core.cache): found current (hit) or not (miss).",
    ["result"],
)
# Bound once: looking a label's child up costs more than the count itself, on the hot path.
READ_CACHE_HITS = READ_CACHE.labels("hit")
READ_CACHE_MISSES = READ_CACHE.labels("miss")

THROTTLED = Counter(
    "socialapi_throttled_requests",
    "Requests refused by a rate, by the rate's scope (a request over two rates counts in both).",
    ["scope"],
)


@csrf_exempt  # a POST from elsewhere is a 404, as on any unknown path, not a CSRF failure
def metrics(request):
    """Every worker's metrics; a 404 to anyone not allowed, as if there were no such page."""
    if not allowed(request):
        # The project's handler404 (core.views imports DRF, whose settings import core.cache).
        return get_resolver().resolve_error_handler(404)(request)
    if request.method not in ("GET", "HEAD"):
        detail = f'Method "{request.method}" not allowed.'
        return JsonResponse({"detail": detail}, status=405, headers={"Allow": "GET, HEAD"})
    return ExportToDjangoView(request)


def allowed(request) -> bool:
    """From an address in METRICS_ALLOWED_IPS, or carrying `Authorization: Bearer METRICS_TOKEN`."""
    return _from_allowed_address(request) or _has_token(request)


def _from_allowed_address(request) -> bool:
    # The address throttling counts by: behind a proxy (NUM_PROXIES) every request comes from
    # the proxy's loopback address, and the client is the one it names in X-Forwarded-For.
    try:
        address = ipaddress.ip_address(BaseThrottle().get_ident(request))
    except ValueError:  # none, or not an address
        return False
    address = getattr(address, "ipv4_mapped", None) or address
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_IPS
    )


def _has_token(request) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    # Bytes: compare_digest refuses str with non-ASCII characters, which a header may carry.
    return secrets.compare_digest(
        given.strip().encode(errors="surrogatepass"), token.encode(errors="surrogatepass")
    )
