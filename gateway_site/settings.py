"""Settings for the AI Gateway.

Everything comes from the environment, with embedded defaults: SQLite, local
memory cache and eager Celery tasks, so one
command runs the gateway with no other service. Setting ``DATABASE_URL`` and
``REDIS_URL`` switches to the production / scale-out mode.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from gateway_site.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_or_file,
    env_str,
    parse_database_url,
    parse_redis_url,
)

# With no internet, LiteLLM would try to download its model map (and a few
# other resources) at import; use the copies shipped in the package.
for _name in (
    "LITELLM_LOCAL_MODEL_COST_MAP",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS",
    "LITELLM_LOCAL_BLOG_POSTS",
    "LITELLM_LOCAL_POLICY_TEMPLATES",
):
    os.environ.setdefault(_name, "True")

BASE_DIR = Path(__file__).resolve().parent.parent
# A checkout (manage.py beside gateway_site/) keeps its data in BASE_DIR/var;
# an installed package (BASE_DIR is site-packages) in ./var of the directory it starts in.
_DEFAULT_DATA_DIR = BASE_DIR / "var" if (BASE_DIR / "manage.py").is_file() else Path.cwd() / "var"
VAR_DIR = Path(env_str("GATEWAY_DATA_DIR", str(_DEFAULT_DATA_DIR)))

DEBUG = env_bool("DJANGO_DEBUG", False)

# The embedded default (no DATABASE_URL: SQLite under var/) finds the secrets
# `make run` generated in var/ when the environment names none, so every
# manage.py command shares the running server's database, keys and token
# pepper. Production (DATABASE_URL set) takes secrets only from the
# environment and refuses to start without them.
EMBEDDED = not env_str("DATABASE_URL")


def _generated(filename: str) -> Path | None:
    """Where `make run` put a generated secret; production reads none."""
    return VAR_DIR / filename if EMBEDDED else None


_HOW_TO_GENERATE = (
    " With the embedded default, `make run` generates it once into var/."
    if EMBEDDED
    else " Production mode (DATABASE_URL set) reads it only from the environment."
)

SECRET_KEY = env_or_file("DJANGO_SECRET_KEY", _generated("secret_key"))
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set; "
            "a development default is only used when DJANGO_DEBUG=1." + _HOW_TO_GENERATE
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG or EMBEDDED else "")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the host names the gateway answers to.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Fernet keys (comma separated, newest first) that encrypt provider secrets.
# See README "Rotating the encryption key".
GATEWAY_ENCRYPTION_KEYS = [
    key.strip()
    for key in env_or_file("GATEWAY_ENCRYPTION_KEYS", _generated("encryption_key")).split(",")
    if key.strip()
]
if not GATEWAY_ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "GATEWAY_ENCRYPTION_KEYS (or GATEWAY_ENCRYPTION_KEYS_FILE) must be set: one or more Fernet keys, "
        "newest first. Generate one with: python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'." + _HOW_TO_GENERATE
    )
GATEWAY_BLOCK_PRIVATE_API_BASE = env_bool("GATEWAY_BLOCK_PRIVATE_API_BASE", False)
GATEWAY_MAX_BODY_BYTES = env_int("GATEWAY_MAX_BODY_BYTES", 25 * 1024 * 1024, minimum=1024)
GATEWAY_UPSTREAM_TIMEOUT = env_int("GATEWAY_UPSTREAM_TIMEOUT", 600, minimum=1)
GATEWAY_COOLDOWN_SECONDS = env_int("GATEWAY_COOLDOWN_SECONDS", 30, minimum=1)
# What starting an endpoint checks beyond its configuration (endpoints.probes):
# "free" lists each key's models where the provider has a free listing, "all"
# also makes a one-token call (billed by the provider), "off" checks nothing.
GATEWAY_START_PROBES = env_choice("GATEWAY_START_PROBES", "free", ("off", "free", "all"))
GATEWAY_PROBE_TIMEOUT = env_int("GATEWAY_PROBE_TIMEOUT", 10, minimum=1)
# The proxy's direct path (proxy.direct): one HTTP call for wire-compatible
# pairs. Off sends every request through LiteLLM's translation instead.
GATEWAY_DIRECT_PATH = env_bool("GATEWAY_DIRECT_PATH", True)
GATEWAY_METRICS_TOKEN = env_str("GATEWAY_METRICS_TOKEN")
# How long request logs are kept; 0 keeps them forever. The purge runs hourly
# (Celery beat, or manage.py serve itself when there is no Redis) and on
# demand with manage.py purge_request_logs.
GATEWAY_REQUEST_LOG_RETENTION_DAYS = env_int("GATEWAY_REQUEST_LOG_RETENTION_DAYS", 30, minimum=0)
# Reliability (README "Production / scale-out"): how long a stopping
# process (manage.py serve) lets requests and streams in flight finish, and
# what the rate limiter does when Redis fails: serve unlimited, or refuse (503).
GATEWAY_DRAIN_SECONDS = env_int("GATEWAY_DRAIN_SECONDS", 120)
GATEWAY_WORKERS = env_int("GATEWAY_WORKERS", 1, minimum=1)  # manage.py serve's worker processes
GATEWAY_RATE_LIMIT_ON_REDIS_ERROR = env_choice("GATEWAY_RATE_LIMIT_ON_REDIS_ERROR", "allow", ("allow", "deny"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our own static files, no CDN
    "guardian",
    "django_htmx",
    "gateway_site",
    "sharing",
    "teams",
    "audit",
    "catalog",
    "keys",
    "tokens",
    "endpoints",
    "scorers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gateway_site.middleware.ProxyFastPathMiddleware",
    "gateway_site.middleware.AsyncWhiteNoiseMiddleware",
    "gateway_site.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "gateway_site.urls"
ASGI_APPLICATION = "gateway_site.asgi.application"
WSGI_APPLICATION = "gateway_site.wsgi.application"

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

DATABASES = {"default": parse_database_url(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'gateway.sqlite3'}"))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Tests that run a real server in a thread need a database file every
    # connection can open (an in-memory one is private or table-locked).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    parse_redis_url(REDIS_URL)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gateway"}}

# Celery: a Redis broker when REDIS_URL is set; otherwise tasks run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic work for `celery -A gateway_site beat`.
CELERY_BEAT_SCHEDULE = {
    "purge-request-logs": {"task": "endpoints.tasks.purge_request_logs", "schedule": 3600.0},
}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous callers never hold grants.
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

DATA_UPLOAD_MAX_MEMORY_SIZE = GATEWAY_MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Listed first so an unauthenticated call answers 401 with
        # ``WWW-Authenticate: Bearer`` rather than 403.
        "tokens.authentication.GatewayTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["gateway_site.parsers.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "gateway_site.openapi.GatewayAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "gateway_site.pagination.GatewayPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "gatewaylib.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AI Gateway API",
    "DESCRIPTION": "Provider keys, endpoints, sharing and tokens of the AI Gateway.",
    "VERSION": "3.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc come from drf-spectacular-sidecar's packaged assets,
    # not a CDN: the docs work without internet and load nothing from elsewhere.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise show a badge image fetched from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "validatorUrl": None},
    # Two "level" fields with different choices: a sharing level and an import report line's severity.
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": ["READ", "USE", "EDIT", "MANAGE"],  # sharing.levels.Level, by name
        "ImportReportLevelEnum": "endpoints.transfer.base.REPORT_LEVELS",
    },
}

# Security. The HTTPS settings default on outside DEBUG; set GATEWAY_HTTPS=0
# only when serving plain HTTP on a trusted host (the local quick start does).
GATEWAY_HTTPS = env_bool("GATEWAY_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = GATEWAY_HTTPS
SECURE_SSL_REDIRECT = GATEWAY_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000 if GATEWAY_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = GATEWAY_HTTPS
SECURE_HSTS_PRELOAD = GATEWAY_HTTPS
if env_bool("GATEWAY_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOG_LEVEL = env_str("GATEWAY_LOG_LEVEL", "INFO").upper()
# One line per proxied request (logger ``gateway.requests``) is written at this
# level: DEBUG by default, so with the default INFO it costs one level check.
# Set it to INFO to see every request.
GATEWAY_REQUEST_LOG_LEVEL = logging.getLevelNamesMapping()[
    env_choice("GATEWAY_REQUEST_LOG_LEVEL", "debug", ("debug", "info", "warning")).upper()
]
GATEWAY_LOG_FORMAT = env_choice("GATEWAY_LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # One JSON object per line; the proxy's request line adds its fields as keys.
        "json": {
            "()": "gatewaylib.logs.ScrubbedJsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {
        # Every line this process writes is scrubbed of the provider secrets it holds.
        "secrets": {"()": "gatewaylib.scrub.SecretLogFilter"},
        # 403/404/405/409 are one line, not a traceback.
        "expected_refusals": {"()": "gatewaylib.logs.ExpectedRefusalFilter"},
        # A gateway token in a URL (Gemini's ?key=) is withheld from access-log lines.
        "key_in_url": {"()": "gatewaylib.logs.KeyInUrlFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": GATEWAY_LOG_FORMAT,
            "filters": ["expected_refusals", "key_in_url", "secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "LiteLLM": {"level": "WARNING"},
        "LiteLLM Router": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}
