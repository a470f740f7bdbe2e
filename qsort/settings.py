"""qsort settings: one module, every deploy-specific value from the environment.

Defaults suit a developer's laptop (SQLite, tasks run in-process); production sets
DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and leaves DEBUG off, and then
`manage.py check --deploy` is clean. Every variable is listed in README.md and .env.example.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# One BLAS thread per process unless told otherwise (OPENBLAS_NUM_THREADS=N): a web process
# serves requests side by side, and an analysis run in it (no broker) with a BLAS thread per
# core took 14.1 s instead of 3.5 s (centroid, 20,000 sorts, busy machine). Set here, before
# numpy loads, so gunicorn, `make run`'s runserver and the worker all start with it.
for _blas_threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas_threads, "1")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _development_secret_key() -> str:
    """A per-checkout random key kept in var/ (readable by its owner only), so development needs
    no setup and no key is in code. Never used with DEBUG off."""
    path = BASE_DIR / "var" / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
# With DEBUG off a real SECRET_KEY is required: the web server refuses to start without one
# (qsort/wsgi.py) and `check --deploy` fails. Commands and tests get a key for this process only.
SECRET_KEY = env_str("SECRET_KEY") or (_development_secret_key() if DEBUG else secrets.token_urlsafe(50))
SECRET_KEY_FROM_ENVIRONMENT = bool(env_str("SECRET_KEY"))
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

# HTTPS hardening is on unless DEBUG; SECURE_HTTPS=0 turns it off for plain-http test servers.
SECURE_HTTPS = env_bool("SECURE_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = SECURE_HTTPS
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
# Behind a reverse proxy (compose, nginx) the proxy's X-Forwarded-Proto and X-Forwarded-For are
# believed; without one they are ignored, since any client could send them (qsort/security/client.py).
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "knox",  # API tokens: stored hashed, expiring, revoked on password change (qsort/api/tokens.py)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from static/, no CDN
    "axes",
    "csp",
    "qsort.security",
    "qsort.studies",
    "qsort.participate",
    "qsort.workspace",
    "qsort.runs",
    "qsort.exchange",
    "qsort.rooms",
    "qsort.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qsort.security.middleware.refuse_oversized_bodies",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "qsort.security.middleware.no_store",
    # Last, so a locked-out login attempt gets the lockout page whatever the view answered.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qsort.urls"
WSGI_APPLICATION = "qsort.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# sqlite:///path or postgres://user@host:port/name (psycopg 3). No value: a SQLite file
# under the project, so `make run` needs no services.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
# Health checks: a persistent connection that died with a PostgreSQL restart is replaced
# before use instead of failing one request per worker.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # `make run`'s analysis thread writes while requests do. A transaction that reads, then writes
    # failed at once with "database is locked" (a 503 on a participant's submit, found by
    # benchmarks/participate.py): take the write lock when it begins, wait for it up to 20 s,
    # and let readers and the writer pass each other (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace:studies"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# Languages with a participant-facing translation in locale/ (add one: README, "Languages").
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic (the Docker image runs it) writes gzip copies that WhiteNoise then serves.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# The console backend prints password-reset links; `check --deploy` refuses it (qsort/security/checks.py).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "qsort@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# Request bodies, refused with a clear message (413) before they are read where Django allows
# (qsort/security/middleware.py); the proxy in front holds QSORT_MAX_REQUEST_BYTES too (README).
# Anyone: DATA_UPLOAD_MAX_MEMORY_SIZE. Signed-in staff: an import of two files of
# QSORT_MAX_UPLOAD_BYTES. Uploaded files above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
QSORT_MAX_UPLOAD_BYTES = env_int("QSORT_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
QSORT_MAX_REQUEST_BYTES = 2 * QSORT_MAX_UPLOAD_BYTES + 256 * 1024

# Celery on Redis. With no broker the site still works: tasks run in-process, eagerly.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker outage must never hang a request: fail fast, the run stays queued and is retried.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_PUBLISH_RETRY = False
# Without a broker, analyses run in a background thread of the web process (never inside a
# request); with one, beat (`celery worker -B`) sweeps for runs to re-send or take over.
QSORT_RUNS_IN_PROCESS = not CELERY_BROKER_URL
QSORT_RUN_HEARTBEAT_SECONDS = env_int("QSORT_RUN_HEARTBEAT_SECONDS", 10)
QSORT_RUN_TIME_LIMIT_SECONDS = env_int("QSORT_RUN_TIME_LIMIT_SECONDS", 30 * 60)
CELERY_BEAT_SCHEDULE = {
    "recover-runs": {"task": "qsort.runs.tasks.recover_runs", "schedule": float(QSORT_RUN_HEARTBEAT_SECONDS)},
}

# One cache for every process: rate-limit counters and login lockouts must be shared by all
# gunicorn workers, so Redis when there is one, else this process's memory (`make run`: one process).
REDIS_URL = env_str("REDIS_URL") or (CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "qsort.cache.FailOpenRedisCache",  # an outage is a miss, not a 500
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "qsort",
            # A Redis outage must not hang a request for long (rate limits then fail open).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "qsort"}}

# Rate limits per client address ("requests/period", period s, m, h or d), counted in the cache
# above by django-ratelimit (qsort/security/limits.py). RATE_LIMITS=0 switches them all off.
RATELIMIT_ENABLE = env_bool("RATE_LIMITS", True)
RATELIMIT_IP_META_KEY = "qsort.security.client.client_address"  # IPv6 clients count per /64
RATELIMIT_FAIL_OPEN = True  # a cache outage must not lock participants out
QSORT_RATE_LIMITS = {
    # New participants through a study's open link (a focus group behind one address fits).
    "open_link": env_str("RATE_LIMIT_OPEN_LINK", "30/m"),
    # Autosave, steps and submits of existing participants, web and API, per address.
    "participant": env_str("RATE_LIMIT_PARTICIPANT", "600/m"),
    # Sign-in attempts (web, admin) and API token requests, per address.
    "login": env_str("RATE_LIMIT_LOGIN", "20/m"),
}
if not REDIS_URL:
    # One process without Redis (`make run`): its memory is the shared cache. Production has
    # several processes, and `check --deploy` says so (qsort.W001).
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001", "axes.W001"]

# Repeated failed sign-ins (web, admin, API token) lock that username from that address out for a
# while; kept in the cache, never in the database (no IP addresses stored).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "qsort.security.client.client_address"
AXES_LOCKOUT_TEMPLATE = "security/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Content-Security-Policy on every response; the API docs pages relax it for their own scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "knox.auth.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON with depth and text limits (qsort/security/parsing.py): malformed input is a 400.
    "DEFAULT_PARSER_CLASSES": [
        "qsort.security.parsing.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# `POST /api/token/` hands out a token for `Authorization: Token <token>`; only its hash is stored.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_DAYS", 30)),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": 20,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "qsort API",
    "DESCRIPTION": "Drive Q-methodology studies: statements, participants, sorts, analyses, exports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StudyStatusEnum": "qsort.studies.models.Study.Status",
        "RunStatusEnum": "qsort.runs.models.AnalysisRun.Status",
        "JobStatusEnum": "qsort.runs.models.Job.Status",
    },
}

# Every handler drops participant tokens from what it writes (qsort/security/logs.py). Django's
# own loggers (requests, runserver) are routed here too, instead of its defaults (which would
# e-mail request details to ADMINS).
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_tokens": {"()": "qsort.security.logs.RedactTokens"}},
    "formatters": {
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_tokens"]},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["no_tokens"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # No handlers of its own (Django's would e-mail request details): records go to the root's.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": ["server"], "level": LOG_LEVEL, "propagate": False},
    },
}
