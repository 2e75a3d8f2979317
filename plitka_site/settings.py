"""Settings for every process (web, worker, beat), read from the environment.

Defaults give a working single-machine stack (SQLite under var/, local Redis, media on
disk). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from gpu_worker.allocator import KEEP_MB_DEFAULT
from gpu_worker.budget import FRACTION_ENV, BudgetError, memory_fraction_setting
from plitka_site.env import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_str,
    web_requests_at_once,
    web_threads,
)
from plitka_site.media_storage import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PLITKA_VAR_DIR", str(BASE_DIR / "var")))

_DEV_SECRET = "dev-only-insecure-secret-key-change-me"
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ConfigError("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "plitka_site.apikeys",
    "catalog",
    "renders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Oversized bodies and control characters answered in the API's envelope, first.
    "plitka_site.api.guards.RequestGuardMiddleware",
    # Static files from the web process itself, under gunicorn as under runserver.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language the browser asks for (Accept-Language): Russian or English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# In development whitenoise finds static files where the apps keep them (no collectstatic);
# in production it serves the collected, compressed and hashed copies in STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

ROOT_URLCONF = "plitka_site.urls"
WSGI_APPLICATION = "plitka_site.wsgi.application"
ASGI_APPLICATION = "plitka_site.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'plitka.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat read while one of them writes;
    # IMMEDIATE transactions take the write lock up front instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-plitka.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No statement runs long here (the longest, a stale sweep's page, takes milliseconds):
    # one that does is stopped, and a database that does not answer fails the connect,
    # instead of holding a web thread or a worker. `migrate` sets no limit of its own;
    # DATABASE_STATEMENT_TIMEOUT_MS=0 lifts this one for a long migration.
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT_S", 5),
        "options": f"-c statement_timeout={env_int('DATABASE_STATEMENT_TIMEOUT_MS', 15000)}",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery --------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

# A render is cut softly (the job is marked failed with a clear error), then hard; a message
# whose worker vanished is redelivered only after the visibility timeout, so the timeout
# must outlast the hard limit or Redis would hand a running job to a second worker.
RENDER_SOFT_TIME_LIMIT_S = env_int("RENDER_SOFT_TIME_LIMIT_S", 900)
RENDER_HARD_TIME_LIMIT_S = env_int("RENDER_HARD_TIME_LIMIT_S", 960)
CELERY_VISIBILITY_TIMEOUT_S = env_int("CELERY_VISIBILITY_TIMEOUT_S", 1800)
if not RENDER_SOFT_TIME_LIMIT_S < RENDER_HARD_TIME_LIMIT_S < CELERY_VISIBILITY_TIMEOUT_S:
    raise ConfigError(
        "need RENDER_SOFT_TIME_LIMIT_S < RENDER_HARD_TIME_LIMIT_S < CELERY_VISIBILITY_TIMEOUT_S"
    )
_BROKER_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S,
    # Check the queues in the order a worker lists them: interactive before batch.
    "queue_order_strategy": "priority",
}
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = _BROKER_OPTIONS
CELERY_RESULT_BACKEND = None  # the database is the truth; nothing reads task results
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = RENDER_SOFT_TIME_LIMIT_S
CELERY_TASK_TIME_LIMIT = RENDER_HARD_TIME_LIMIT_S
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

RENDER_QUEUES = {"interactive": "render.interactive", "batch": "render.batch"}
RENDER_ENGINES_ENABLED = env_list("RENDER_ENGINES_ENABLED", ["procedural"])
# Diffusion models each GPU worker process loads as it starts (renders/worker/preload.py).
DIFFUSION_PRELOAD = env_list("PLITKA_DIFFUSION_PRELOAD", [])
# Share of a GPU worker's device memory (gpu_worker.budget); refused here, at start, if bad.
try:
    PLITKA_GPU_MEMORY_FRACTION = memory_fraction_setting(env_str(FRACTION_ENV, ""))
except BudgetError as exc:
    raise ConfigError(str(exc)) from exc
# Up to this many queued jobs with one batch key (same diffusion model, settings, size and
# steps) share one pipeline call on a worker; 1 is off (the default: a batch's pictures
# land together, so the first waits for the last).
RENDER_BATCH_MAX = env_int("PLITKA_DIFFUSION_BATCH", 1)
if not 1 <= RENDER_BATCH_MAX <= 16:
    raise ConfigError(f"PLITKA_DIFFUSION_BATCH={RENDER_BATCH_MAX} must be 1 (off) to 16")
RENDER_MAX_ATTEMPTS = env_int("RENDER_MAX_ATTEMPTS", 3)
# Free memory a render worker process keeps for its next render instead of returning it
# (gpu_worker/allocator.py).
RENDER_HEAP_KEEP_MB = env_int("RENDER_HEAP_KEEP_MB", KEEP_MB_DEFAULT)
if not 0 <= RENDER_HEAP_KEEP_MB <= 2047:
    raise ConfigError(f"RENDER_HEAP_KEEP_MB={RENDER_HEAP_KEEP_MB} must be 0..2047")
# A running job whose worker has not beaten for this long is taken as lost. A running job
# beats every 2 s (renders/worker/execute.py), so 10 s is five missed beats; with the
# reconciler every 5 s, a dead worker's job is queued again within 15 s.
RENDER_HEARTBEAT_STALE_S = env_int("RENDER_HEARTBEAT_STALE_S", 10)
# A result write that fails transiently (a full disk, an unreachable bucket) is tried again
# this many times, waiting RENDER_STORE_RETRY_FIRST_S and doubling; then the job fails
# with code storage_error. A read-only or forbidden media folder fails at once.
RENDER_STORE_RETRIES = env_int("RENDER_STORE_RETRIES", 4)
RENDER_STORE_RETRY_FIRST_S = float(env_str("RENDER_STORE_RETRY_FIRST_S", "0.25"))
if not 0 <= RENDER_STORE_RETRIES <= 8 or not 0 <= RENDER_STORE_RETRY_FIRST_S <= 1:
    raise ConfigError("need RENDER_STORE_RETRIES 0..8 and RENDER_STORE_RETRY_FIRST_S 0..1")
# A queued job with no message in Redis after this long is dispatched again.
RENDER_REDISPATCH_AFTER_S = env_int("RENDER_REDISPATCH_AFTER_S", 120)
RENDER_STALE_SWEEP_LIMIT = env_int("RENDER_STALE_SWEEP_LIMIT", 50)
RENDER_MONITOR_INTERVAL_S = float(env_str("RENDER_MONITOR_INTERVAL_S", "0.5"))
IDEMPOTENCY_TTL_HOURS = 24
# Webhooks (renders/services/webhooks.py): each POST waits this long for the receiver;
# a 5xx, 429, timeout or connection error is tried again after WEBHOOK_RETRY_FIRST_S,
# doubling, up to WEBHOOK_MAX_ATTEMPTS tries in all (defaults: 8 tries over about 21 min).
WEBHOOK_QUEUE = "webhooks"
WEBHOOK_TIMEOUT_S = float(env_str("WEBHOOK_TIMEOUT_S", "5"))
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_RETRY_FIRST_S = float(env_str("WEBHOOK_RETRY_FIRST_S", "10"))
WEBHOOKS_PER_KEY = env_int("WEBHOOKS_PER_KEY", 5)
if not (0 < WEBHOOK_TIMEOUT_S <= 30 and 1 <= WEBHOOK_MAX_ATTEMPTS <= 20):
    raise ConfigError("need WEBHOOK_TIMEOUT_S 0..30 and WEBHOOK_MAX_ATTEMPTS 1..20")
if not 0 < WEBHOOK_RETRY_FIRST_S <= 3600:
    raise ConfigError("need WEBHOOK_RETRY_FIRST_S 0..3600")
# Outside DEBUG a webhook may not point at a private, loopback, link-local or otherwise
# non-public address (checked after DNS resolution, and again on every redirect), except
# the networks listed here (CIDRs, e.g. an internal receiver's 10.1.2.0/24).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", DEBUG)
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS", [])
# `Authorization: Bearer <this>` lets a Prometheus server read /metrics; empty: staff only.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Staff work in Russian: the admin, the dashboard, the configurator and API error messages
# follow the browser's Accept-Language (codes stay the same); English otherwise.
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Let Django itself serve MEDIA_ROOT: right for one machine, not behind a CDN or S3.
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
# Result images: MEDIA_ROOT on this machine, or a shared S3-compatible bucket.
DEFAULT_STORAGE = media_storage(os.environ)
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- REST API ---------------------------------------------------------------------------------
API_MAX_PAGE_SIZE = 100
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "plitka_site.apikeys.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["plitka_site.api.permissions.IsStaffOrApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["plitka_site.apikeys.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "plitka_site.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "plitka_site.api.ordering.StrictOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "plitka_site.api.schema.EnvelopeAutoSchema",
    "EXCEPTION_HANDLER": "plitka_site.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "plitka_site.api.parsers.StrictJSONParser",
        "plitka_site.api.parsers.StrictFormParser",
        "plitka_site.api.parsers.StrictMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Long polls (?wait=) a web process lets wait at once: each holds one of its gunicorn
# threads while it waits (not one of the requests it works on), so the threads left over from
# those always stay free for other requests; more waiting clients are answered at once.
# 0: no long polls.
_LONG_POLL_THREADS = web_threads() - web_requests_at_once()
API_LONG_POLL_WAITERS = env_int("API_LONG_POLL_WAITERS", _LONG_POLL_THREADS)
if not 0 <= API_LONG_POLL_WAITERS <= _LONG_POLL_THREADS:
    raise ConfigError(
        f"API_LONG_POLL_WAITERS={API_LONG_POLL_WAITERS} must be 0..{_LONG_POLL_THREADS}: "
        "GUNICORN_THREADS less GUNICORN_REQUESTS_AT_ONCE, or a process could have no thread "
        "left for other requests"
    )
# The largest request body the API reads (a render request is under 4 KB); larger ones
# are answered 413 before they are read.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024)
# Paths that take an uploaded picture (a photo to analyse) may send this much instead: the
# picture's own limit (renders/image_uploads.py, 12 MiB) and the form around it.
API_UPLOAD_PATHS = ("/api/v1/analyses/",)
API_MAX_UPLOAD_BYTES = env_int("API_MAX_UPLOAD_BYTES", 12 * 2**20 + 64 * 1024)
# Requests per minute for a key that does not set its own limit.
API_KEY_DEFAULT_RATE = env_str("API_KEY_DEFAULT_RATE", "600/min")

SPECTACULAR_SETTINGS = {
    "TITLE": "Plitka render backend API",
    "DESCRIPTION": (
        "Colours, tile products, colour recipes and renders of rubber-crumb tiles. "
        "Storefront clients authenticate with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The API's documented body is JSON. Forms and multipart are still read (the browsable
    # API posts them), but a schema offering three encodings led generated clients to
    # send all three at once.
    "PARSER_WHITELIST": ["plitka_site.api.parsers.StrictJSONParser"],
    # Enum names are part of every generated client: a render's status keeps its name now
    # that analyses have a status of their own.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "renders.models.RenderJob.Status",
        "AnalysisStatusEnum": "renders.models.ColourAnalysis.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "plitka_site.api.schema.filters_allow_empty_values",
    ],
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Security (what `check --deploy` wants when DEBUG is off) ---------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
