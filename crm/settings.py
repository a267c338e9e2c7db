"""Settings, all from the environment, with safe development defaults.

DEBUG is off unless DEBUG=1. Production sets SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL, REDIS_URL and SECURE=1 (HTTPS-only cookies, HSTS, redirect).
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from crm.devservices import var_dir
from crm.web.checks import DEVELOPMENT_SECRET_KEY, production_problems

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the embedded servers, backups and beat's schedule live in development (CRM_VAR_DIR).
VAR_DIR = var_dir()

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# For development and tests only; production (SECURE=1) refuses to start with it (security block).
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The kernel (crm/): feature packages shaped like small apps; see docs/architecture.md.
    "crm.tenancy",
    "crm.records",
    "crm.history",
    "crm.recyclebin",
    "crm.approvals",
    "crm.web",
    "crm.api",
    "crm.exports",
    "crm.savedviews",  # saved views of every list (docs/search.md)
    "customers",  # the apps, which register their record types with the kernel
    "sales",
    "activities",
    "attachments",
    "audit",
    "backups",
    "privacy",
    "imports",
    "ops",
    "reports",
    "pool",  # the public customer pool (docs/pool.md)
    "webhooks",
    "search",  # the header's global search (docs/search.md)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "crm.web.limits.BodySizeLimit",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.web.browser_only.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "crm.web.browser_only.CSPMiddleware",
    "crm.web.headers.NoStoreForSignedIn",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.tenancy.middleware.TenantMiddleware",
    "crm.approvals.middleware.ApprovalOutcomes",
    "crm.tenancy.mfa.TwoFactorGate",
    "crm.tenancy.middleware.UserPreferencesMiddleware",
    "crm.web.errors.MethodNotAllowedPage",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.tenancy.context_processors.tenancy",
            ],
        },
    },
]

# Form widgets through Jinja2 (Django's own templates, Jinja2 flavour): the same HTML, several
# times faster than Django's engine; it matters for selects with many options (time zones, people).
FORM_RENDERER = "django.forms.renderers.Jinja2"

# No DATABASE_URL (and no embedded server running, see manage.py): no database at all, rather
# than a guessed one; commands that need none (makemessages, help) still work, the others say so.
DATABASES = {
    "default": env.db_url("DATABASE_URL")
    if env.str("DATABASE_URL", default="")
    else {"ENGINE": "django.db.backends.dummy"}
}
# A Unix socket directory comes percent-encoded in the URL's host (libpq style).
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST", ""))
# Keep connections between requests: opening one costs more than a list page's queries.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# Django checks a kept connection before a request uses it (`SELECT 1`): a restart fails no request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A list page wants its first 50 rows now: starting parallel workers (about 8 ms) costs more than walking
# an index to them, and row estimates for search words are rough. This keeps them for truly big scans.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = env.str(
    "PG_OPTIONS", default="-c parallel_setup_cost=10000"
)
# Row-level security (docs/rls.md). DATABASE_URL is the application's role, held by the wall;
# SYSTEM_DATABASE_URL (same server and database) the owner's, for migrations, pg_dump and
# restores. Without it the system work uses DATABASE_URL's role, as before.
_system_database = (
    env.db_url("SYSTEM_DATABASE_URL") if env.str("SYSTEM_DATABASE_URL", default="") else DATABASES["default"]
)
SYSTEM_DATABASE = {key: _system_database.get(key, "") for key in ("USER", "PASSWORD")}
# The role that migrations grant row rights to (crm.tenancy.rls.grant_app_role), if it exists.
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="crm_app")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Directory of pg_dump / pg_restore matching the server (the embedded server ships its own).
PG_BIN_DIR = env.str("PG_BIN_DIR", default="")

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="crm"),
    }
}

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is hashed.
    "crm.tenancy.signin.SignInThrottle",
    "crm.tenancy.signin.BoundedModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in: throttling and lockout (django-axes), password reset email (README, "Sign-in") ---
# A lockout per account and, separately, per client address, after AXES_FAILURE_LIMIT failures
# within the cool-off; it ends by itself after the cool-off, with a password reset, or when a
# company admin or staff clears it.
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGNIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout is not counted: the lock ends on time, and costs no write.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "crm.tenancy.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "crm.tenancy.middleware.client_ip"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
# Password checks (hashing) running at once for one client address, across all processes;
# more are refused before hashing, so a burst of failed logins cannot occupy every worker.
SIGNIN_CONCURRENT_HASHES = env.int("SIGNIN_CONCURRENT_HASHES", default=2)
# Two-factor sign-in (django-otp): the name authenticator apps show.
OTP_TOTP_ISSUER = env.str("OTP_ISSUER", default="CRM")
# Email: EMAIL_URL (smtp+tls://user:password@host:587, consolemail://, filemail:///path); without it, the console.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update({name: value for name, value in EMAIL_CONFIG.items() if value is not None})
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)

# Sessions and cookies: HTTP-only, same-site; HTTPS-only when SECURE=1.
SECURE = env.bool("SECURE", default=False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
X_FRAME_OPTIONS = "DENY"
# The client address the audit log records: X-Forwarded-For is believed only as far as it was
# written by proxies declared here, counted from the right: either how many proxies stand in
# front of gunicorn (TRUSTED_PROXY_COUNT) or their addresses / networks (TRUSTED_PROXIES); else none.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Production is SECURE=1 (docker-compose.yml; not `make run`/`make test`): gunicorn, Celery and manage.py
# refuse to start with the development SECRET_KEY or a well-known database password (as `check --deploy`).
if SECURE and (problems := production_problems(SECRET_KEY, DATABASES["default"].get("PASSWORD", ""))):
    raise ImproperlyConfigured(" ".join(problems))
# A request body over this many bytes is refused with a 413 (crm/web/limits.py); 2.5 MB by default.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=2_621_440)
# Attachments: bytes per file, per company (files in the recycle bin count), per multipart upload request.
ATTACHMENT_MAX_FILE_BYTES = env.int("ATTACHMENT_MAX_FILE_BYTES", default=25 * 1024 * 1024)
ATTACHMENT_MAX_COMPANY_BYTES = env.int("ATTACHMENT_MAX_COMPANY_BYTES", default=10 * 1024 * 1024 * 1024)
MAX_UPLOAD_BODY_BYTES = env.int("MAX_UPLOAD_BODY_BYTES", default=100 * 1024 * 1024)
# Content-Security-Policy (django-csp): scripts, styles, fonts and images from this site only;
# no inline script, no inline style, no plugins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # Bootstrap draws its icons as data: SVG
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["crm.formats"]  # zh_Hans amounts grouped by three with commas (crm/formats)
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production (docker) runs collectstatic and sets STATIC_MANIFEST=1.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_RETENTION = {
    "daily": env.int("BACKUP_KEEP_DAILY", default=7),
    "weekly": env.int("BACKUP_KEEP_WEEKLY", default=4),
    "monthly": env.int("BACKUP_KEEP_MONTHLY", default=12),
    "newest": env.int("BACKUP_KEEP_NEWEST", default=3),
}
# Encryption at rest: 32 random bytes in URL-safe base64 (README, "Backups"), or a file holding them.
BACKUP_ENCRYPTION_KEY = env.str("BACKUP_ENCRYPTION_KEY", default="")
BACKUP_ENCRYPTION_KEY_FILE = env.str("BACKUP_ENCRYPTION_KEY_FILE", default="")
# A second copy of each good backup: a directory on another mount, or an rclone remote "name:path".
BACKUP_COPY_TO = env.str("BACKUP_COPY_TO", default="")
# Point-in-time recovery (docs/operations.md): where the server archives WAL, and how far back.
WAL_ARCHIVE_DIR = Path(env.str("WAL_ARCHIVE_DIR", default=str(VAR_DIR / "wal")))
PITR_WINDOW_DAYS = env.int("PITR_WINDOW_DAYS", default=14)

# Celery: Redis broker; beat's schedule is static (one beat process only).
CELERY_BROKER_URL = REDIS_URL
# The queue tasks go to and workers take from: installations sharing one Redis keep apart by it.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_RESULT_BACKEND = REDIS_URL
# Acknowledged on receipt: Redis never re-delivers a dump outliving the visibility timeout (and the lock).
CELERY_TASK_ACKS_LATE = False
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 12 * 60 * 60}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # ops: /readyz and the worker and beat health checks read when it last ran (docs/operations.md).
    "heartbeat": {
        "task": "ops.tasks.heartbeat",
        "schedule": env.float("HEARTBEAT_SECONDS", default=20.0),
        "args": ("beat",),
        "options": {"expires": 20},
    },
    "backup": {
        "task": "backups.tasks.scheduled_backup",
        "schedule": crontab(hour=env.int("BACKUP_HOUR", default=2), minute=0),
    },
    "restore-drill": {
        "task": "backups.tasks.restore_drill",
        "schedule": crontab(day_of_week=env.int("DRILL_WEEKDAY", default=0), hour=4, minute=0),
    },
    "prune-audit-log": {"task": "audit.tasks.prune_audit_log", "schedule": crontab(hour=4, minute=30)},
    "audit-chain-heads": {"task": "audit.tasks.checkpoint_chain_heads", "schedule": crontab(hour=4, minute=45)},
    "purge-recycle-bin": {
        "task": "crm.recyclebin.tasks.purge_recycle_bin",
        "schedule": crontab(hour=env.int("RETENTION_HOUR", default=3), minute=15),
    },
    "resume-recycle-bin-purge": {"task": "crm.recyclebin.tasks.resume_interrupted_purge", "schedule": 300.0},
    "expire-approvals": {"task": "crm.approvals.tasks.expire_approvals", "schedule": 300.0},
    "check-backups": {"task": "backups.tasks.check_backups", "schedule": crontab(minute=20)},
    # Point-in-time recovery: a base backup weekly (Sunday 03:00 by default), the archive watched.
    "base-backup": {
        "task": "backups.tasks.scheduled_base_backup",
        "schedule": crontab(day_of_week=env.int("BASE_BACKUP_WEEKDAY", default=0), hour=3, minute=0),
    },
    "watch-wal-archive": {"task": "backups.tasks.watch_wal_archive", "schedule": crontab(minute="*/5")},
    "incremental-base-backup": {
        "task": "backups.tasks.scheduled_base_backup",
        "schedule": crontab(hour=env.int("INCREMENTAL_BACKUP_HOUR", default=3), minute=30),
        "kwargs": {"incremental": True},
    },
    "pitr-drill": {
        "task": "backups.tasks.pitr_drill",
        "schedule": crontab(day_of_week=env.int("PITR_DRILL_WEEKDAY", default=0), hour=5, minute=0),
    },
    "copy-wal-archive": {"task": "backups.tasks.copy_wal_archive", "schedule": 60.0, "options": {"expires": 55}},
    "sweep-dead-backup-work": {"task": "backups.tasks.sweep_dead_work", "schedule": 300.0},
    "task-reminders": {"task": "activities.tasks.send_due_reminders", "schedule": 60.0, "options": {"expires": 55}},
    # The public pool: warn owners of idle customers, return the idle ones to the pool (docs/pool.md).
    "pool-reclaim": {"task": "pool.tasks.reclaim_idle_customers", "schedule": crontab(minute=40)},
    # Tickets: the assignee hears once when an open ticket passes its due time (docs/tickets.md).
    "overdue-tickets": {"task": "customers.tasks.notify_overdue", "schedule": 60.0, "options": {"expires": 55}},
}

# REST API v1 (crm/api/): JSON only, one error format, per-token rate limit in Redis.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.tenancy.authentication.TenantTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.IsTenantMember"],
    "DEFAULT_RENDERER_CLASSES": ["crm.api.renderers.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["crm.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env.str("API_RATE_LIMIT", default="1000/min")},
    "EXCEPTION_HANDLER": "crm.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "URL_FORMAT_OVERRIDE": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": (
        "REST API v1 for integrations. Authenticate with `Authorization: Token <key>` "
        "(Preferences -> API tokens, `POST /api/v1/tokens/` or `manage.py api_token TENANT USER`): "
        "one user acting in one company; a read-only token may only GET. "
        'Every error has the body `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ApiTokenScopeEnum": "crm.tenancy.models.ApiToken.Scope"},  # two "scope" choice sets
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.add_error_responses",
    ],
}

# Audit events older than this are pruned (after a checkpoint event); 7 years by default.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=7 * 365)
SIMPLE_HISTORY_REVERT_DISABLED = True
# History tables index by tenant first (crm.history.tracing.TracedHistory), never by date alone.
SIMPLE_HISTORY_DATE_INDEX = False

# --- Operations: logs, metrics, readiness, Sentry (ops/, docs/operations.md) ---------------------
# Rotating SECRET_KEY: the old one here for a while keeps sessions and sent links valid.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# JSON lines (python-json-logger) with the request id, or LOG_FORMAT=text for people.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT is {LOG_FORMAT!r}: use json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "ops.logs.json_formatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# Celery's worker and beat log through the handler above instead of their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Each worker also listens on a queue of its own, so its health check asks that very worker.
CELERY_WORKER_DIRECT = True
MIDDLEWARE.insert(0, "ops.metrics.RequestMetricsMiddleware")
# Unused (attachments/ keeps files in PostgreSQL, docs/attachments.md); the attachments volume of docker-compose.yml.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "attachments")))
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is off (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Several gunicorn workers: a shared directory for their figures (prometheus-client's multiprocess mode).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
# /readyz limits: seconds since a worker ran the heartbeat and since beat sent it; hours since the last good backup.
READY_WORKER_MAX_AGE = env.int("READY_WORKER_MAX_AGE", default=60)
READY_BEAT_MAX_AGE = env.int("READY_BEAT_MAX_AGE", default=60)
READY_BACKUP_MAX_AGE = env.int("READY_BACKUP_MAX_AGE", default=26)
# Errors to Sentry when SENTRY_DSN is set (sentry-sdk, its Django and Celery integrations); no personal data.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
    )

# -- webhooks (docs/webhooks.md) ---------------------------------------------------------------
# Private, loopback and link-local targets are refused unless this is on (development, tests).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=10)  # seconds per attempt
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=6)  # then the delivery fails
WEBHOOKS_RETRY_BASE_SECONDS = env.float("WEBHOOKS_RETRY_BASE_SECONDS", default=30)  # doubles after each failure
WEBHOOKS_LOG_DAYS = env.int("WEBHOOKS_LOG_DAYS", default=30)  # finished deliveries stay in the log this long
CELERY_BEAT_SCHEDULE["webhooks-upkeep"] = {"task": "webhooks.upkeep", "schedule": crontab(minute=40)}
