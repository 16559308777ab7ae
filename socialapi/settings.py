"""Settings for socialapi, read from the environment (see .env.example and the README).

One module for every environment: variables, not separate files, switch production behaviour on.
"""

import ipaddress
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()


def throttle_rate(name: str, *, default: str) -> str:
    """A DRF rate (`20/min`) from the environment, refused at startup if DRF could not read it."""
    rate = env.str(name, default=default).strip()
    if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(f"{name}={rate!r} is not a rate such as 20/min or 10/hour.")
    return rate


def ip_networks(name: str, *, default: list[str]) -> list[str]:
    """Addresses and networks (`10.0.0.0/8`) from the environment, refused at startup if bad."""
    networks = [value.strip() for value in env.list(name, default=default) if value.strip()]
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {network!r} is not an address.") from None
    return networks


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment "
            "(or DEBUG=true for local development only)."
        )
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: runserver leaves static files to whitenoise, as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "core",  # before drf_spectacular: core/templates overrides its ReDoc page
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc assets served by us, never from a CDN
    "accounts",
    "posts",
    "social",
    "comments",
    "notifications",
    "moderation",
]

MIDDLEWARE = [
    # Outermost, so the log line has the final status and the whole duration.
    "core.middleware.RequestLogMiddleware",
    # Around all the rest, as django-prometheus asks: requests, statuses, latency (core/metrics.py).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.StrictQueryStringMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.JSONExceptionMiddleware",
    # Around the view (a replica's failure that ReplicaMiddleware retries is no error here).
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # After JSONExceptionMiddleware: its process_exception sees a replica failing first.
    "core.replicas.ReplicaMiddleware",
]

ROOT_URLCONF = "socialapi.urls"
WSGI_APPLICATION = "socialapi.wsgi.application"

# Paths answer with and without a trailing slash (see socialapi/urls.py), so never redirect.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: an embedded SQLite file unless DATABASE_URL points elsewhere (PostgreSQL in production).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the lock instead of failing with "database is locked" under concurrency.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not the in-memory default: concurrency tests need real locks between connections.
    # One per process, so two test runs side by side never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"socialapi-test-{os.getpid()}.sqlite3")
    }

# Read replicas (PostgreSQL streaming replicas of DATABASE_URL): reads go to one that has replayed
# what the reader must see, writes and everything else to the primary (core/replicas.py).
DATABASE_REPLICAS = []
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    DATABASE_REPLICAS.append(f"replica_{_number}")
    DATABASES[f"replica_{_number}"] = {
        **env.db_url_config(_url),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        # A replica that is gone is skipped at once, not after the driver's long default.
        "OPTIONS": {"connect_timeout": env.int("REPLICA_CONNECT_TIMEOUT", default=2)},
        # Tests run on the primary alone; core/tests/test_replicas.py points at a real replica.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
# A replica further behind than this is skipped until it catches up.
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Served by whitenoise; `collectstatic` writes them compressed, with hashed names cached forever.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "core.staticfiles.ManifestStaticFilesStorage"},
}

# HTTPS. A public deployment (DEBUG off and a host name other than the loopback ones) redirects to
# HTTPS, sends HSTS and marks its cookies Secure. A run on this machine over plain HTTP (the tests,
# a server on 127.0.0.1) is not one, so it needs none of these set. The TLS-terminating proxy in
# front says the original scheme in X-Forwarded-Proto (it must overwrite a client's own header).
# "*" names no host, so it does not count as public either: set the variables explicitly then.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "*"}
PUBLIC_DEPLOYMENT = not DEBUG and not set(ALLOWED_HOSTS) <= LOCAL_HOSTS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PUBLIC_DEPLOYMENT)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PUBLIC_DEPLOYMENT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PUBLIC_DEPLOYMENT)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PUBLIC_DEPLOYMENT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# The cache holds the throttle counters: in this process's memory by default; in Redis when
# REDIS_URL is set, so every gunicorn worker and instance counts against one budget.
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {
            # django-redis keeps its client between calls; Django's own backend builds a new
            # one (and its 170-entry callback table) on every operation, on the hot path.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
}
# Several databases may share one Redis (a benchmark, staging): keys never cross between them.
CACHES["default"]["KEY_PREFIX"] = str(DATABASES["default"]["NAME"])
# Cache list pages, posts, profiles and the token's user in that cache, exactly (core/cache.py).
# Correct only when every worker shares the cache, hence on by default with REDIS_URL alone.
API_CACHE = env.bool("API_CACHE", default=bool(REDIS_URL))
if DATABASE_REPLICAS and not REDIS_URL:
    # Each member's WAL position, and the cache's, must be shared by every worker and server.
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs REDIS_URL")

# CORS: every origin by default, as the original API; list origins in production.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = not CORS_ALLOWED_ORIGINS
# What a browser's script may send and read beyond the defaults (docs/api.md Part 4).
CORS_ALLOW_HEADERS = (*cors_default_headers, "if-match", "if-none-match", "idempotency-key")
CORS_EXPOSE_HEADERS = [
    "ETag",
    "Idempotent-Replayed",
    "Link",
    "X-Total-Count",
    "Location",
    "Retry-After",
]

# bench/run.py turns this on to serve /bench/ceiling: a constant JSON body through the whole stack,
# the reference its scenarios are measured against. Never on in production.
BENCH_CEILING = env.bool("BENCH_CEILING", default=False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.BearerJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "core.parsers.FormParser",
        "core.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.negotiation.JSONFirstNegotiation",
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    # Every endpoint: per client (anonymous) and per user. Views with a `throttle_scope` add theirs.
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
        "core.throttling.ScopedRateThrottle",
    ],
    # Per client and per user the limits are generous (clients behind one NAT share an address);
    # failed logins per email are the ones that stop password guessing.
    "DEFAULT_THROTTLE_RATES": {
        "anon": throttle_rate("THROTTLE_ANON", default="1000/min"),
        "user": throttle_rate("THROTTLE_USER", default="2000/min"),
        "signup": throttle_rate("THROTTLE_SIGNUP", default="300/min"),
        "login": throttle_rate("THROTTLE_LOGIN", default="300/min"),
        "login_email": throttle_rate("THROTTLE_LOGIN_EMAIL", default="10/hour"),
        "comment": throttle_rate("THROTTLE_COMMENT", default="30/min"),
    },
    # How many proxies in front append to X-Forwarded-For; 0 trusts only the socket's address.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "socialapi",
    "DESCRIPTION": (
        "A social-media API: sign up, log in for JWT tokens, write posts and like them. "
        "Use **Authorize** with your email as the username and your password."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],  # public pages: a stale token must not lock anyone out
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        "persistAuthorization": True,
        "displayRequestDuration": True,
        "validatorUrl": None,  # no badge fetched from swagger.io
    },
    "ENUM_NAME_OVERRIDES": {
        "ReportCategory": "moderation.models.Report.Category",
        "ReportStatus": "moderation.models.Report.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.original_paths",
        "core.schema.throttled_responses",
        "core.schema.idempotency_responses",
    ],
}

# How long a response kept for an `Idempotency-Key` is replayed (core/idempotency.py); older
# ones are ignored, and `manage.py purge_idempotency_keys` deletes them.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)

ACCESS_TOKEN_MINUTES = env.int("ACCESS_TOKEN_MINUTES", default=30)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ACCESS_TOKEN_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Tokens carry a digest of the password hash: a password change invalidates old access tokens.
    "CHECK_REVOKE_TOKEN": True,
}

# One JSON object per line on stdout, where a platform collects logs; one line per request.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.logs.JSONFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own loggers go to the root handler too, instead of their plain-text console.
    "loggers": {"django": {"handlers": [], "level": LOG_LEVEL, "propagate": True}},
}

# Metrics: GET /metrics in Prometheus's format (core/metrics.py), served only to these addresses
# or networks (empty: none) and to requests with `Authorization: Bearer METRICS_TOKEN` (empty:
# no token works); a 404 for everyone else. Addresses as throttling sees them (NUM_PROXIES).
METRICS_ALLOWED_IPS = ip_networks("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Cached reads take about a millisecond: the default buckets start at 10 ms.
PROMETHEUS_LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    float("inf"),
)
# Every database's engine wrapped by django-prometheus's, which counts queries per alias.
_COUNTED_ENGINES = {
    f"django.db.backends.{name}": f"django_prometheus.db.backends.{name}"
    for name in ("postgresql", "sqlite3")
}
for _database in DATABASES.values():
    _database["ENGINE"] = _COUNTED_ENGINES.get(_database["ENGINE"], _database["ENGINE"])
