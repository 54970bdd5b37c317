"""Settings for every environment, read from the environment (django-environ).

No environment at all gives the embedded default: SQLite in ``db.sqlite3``,
Celery tasks run in process (eager), local-memory cache, console email, and
DEBUG on with a development-only secret. ``production.py`` only tightens.

Variables (all optional unless noted; see README "Configuration"):
  DEBUG, SECRET_KEY (required when DEBUG is false), ALLOWED_HOSTS,
  CSRF_TRUSTED_ORIGINS, DATABASE_URL, CONN_MAX_AGE, REDIS_URL, EMAIL_URL,
  DEFAULT_FROM_EMAIL, SECURE_SSL_REDIRECT, SECURE_HSTS_SECONDS,
  CELERY_TASK_ALWAYS_EAGER, CELERY_TASK_(SOFT_)TIME_LIMIT, CELERY_BROKER_VISIBILITY_TIMEOUT,
  TASK_HEARTBEAT_SECONDS, TASK_STALE_AFTER_SECONDS, POOL_SOURCE, POOL_SOURCE_*, POOL_* tuning,
  FX_* (ECB rates), API_THROTTLE_*, LOG_LEVEL.
"""

from decimal import Decimal, InvalidOperation
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env file is read when present (never committed; see .env.example).
# Real environment variables win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEV_SECRET_KEY = "django-insecure-dev-only-key-do-not-use-in-production"  # noqa: S105 - refused when DEBUG is false

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
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
    "django.contrib.postgres",
    "django.forms",  # Django's widget templates, for FORM_RENDERER below
    # third party
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "reversion",
    # ours
    "accounts",
    "pools",
    "portfolios",
    "portfolios.tax",
    "portfolios.wallets",
    "education",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Database down: a 503 page or problem JSON instead of a 500 (config/outage.py).
    "config.outage.DatabaseOutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    # Idempotency-Key on every POST under /api/v1/ (config/idempotency.py).
    "config.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "config.urls"
# Every form renders through templates/forms/field.html (config/forms.py).
FORM_RENDERER = "config.forms.FormRenderer"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alerts.context_processors.alerts",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # An unreachable database host must fail a request quickly (then a 503), not hang it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Redis: Celery broker and cache --------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            # Fails open: while Redis is down the site serves as with an empty cache (config/cache.py).
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "TIMEOUT": 300,
            "KEY_PREFIX": "yl",
            # A hung Redis must not hang every request: give up after these many seconds.
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CACHE_TIMEOUT_SECONDS", default=1.0),
                "socket_timeout": env.float("REDIS_CACHE_TIMEOUT_SECONDS", default=1.0),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "yieldledger",
        }
    }

# --- Celery (config/celery.py reads every CELERY_* name) ---------------------
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Unset REDIS_URL = embedded default: tasks run in the calling process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# A task is acknowledged after it ran, so a worker that dies mid-task does not
# lose it; tasks must therefore be idempotent (safe to run twice).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=5 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=6 * 60)
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Sending a task from a web request: give up within about two seconds when Redis is down
# (the request's data is saved; BaseTask.delay_on_commit logs the failed send).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": CELERY_TASK_PUBLISH_RETRY_POLICY}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = CELERY_BROKER_CONNECTION_TIMEOUT
# The longest countdown any task waits before a retry (config.celery.BaseTask caps its
# backoff at 600 s; the pool refresh's own schedule, POOL_REFRESH_RETRY_*, stays under it).
TASK_RETRY_MAX_DELAY_SECONDS = env.int("TASK_RETRY_MAX_DELAY_SECONDS", default=600)
# Redis hands an unacknowledged message to another worker only after this many seconds.
# A worker holds a message unacknowledged while it waits for its countdown and while it
# runs it (acks_late), so the timeout must exceed the longest countdown plus the hard time
# limit, or a slow task would run twice; it is also how long redelivery waits after a whole
# worker is killed (a worker restores such messages on its next sweep, every
# unacked_restore_interval x unacked_restore_throttle seconds). Default: 18 minutes.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int(
    "CELERY_BROKER_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + TASK_RETRY_MAX_DELAY_SECONDS + 2 * 60)
if CELERY_BROKER_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT + TASK_RETRY_MAX_DELAY_SECONDS:
    raise ImproperlyConfigured("CELERY_BROKER_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT + "
                               "TASK_RETRY_MAX_DELAY_SECONDS, or tasks would be delivered twice.")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 3,
}
# Tracked work (refresh runs...) heartbeats this often while running; the reaper
# (config.tasks.reap_stale_work, every minute) fails and re-enqueues work silent for longer
# than TASK_STALE_AFTER_SECONDS. See config/heartbeat.py.
TASK_HEARTBEAT_SECONDS = env.int("TASK_HEARTBEAT_SECONDS", default=30)
TASK_STALE_AFTER_SECONDS = env.int("TASK_STALE_AFTER_SECONDS", default=4 * TASK_HEARTBEAT_SECONDS)
if TASK_STALE_AFTER_SECONDS <= 2 * TASK_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("TASK_STALE_AFTER_SECONDS must be more than twice TASK_HEARTBEAT_SECONDS.")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Slow work (history backfills, tax reports, bulk revaluations) on its own
# queue so that it never delays the hourly refreshes. A worker consumes both
# queues unless started with -Q (run a dedicated `-Q slow` worker to scale).
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (Queue("default"), Queue("slow"))
CELERY_TASK_ROUTES = {
    "pools.tasks.backfill_pool_history": {"queue": "slow"},
    "portfolios.tax.tasks.*": {"queue": "slow"},
    "portfolios.tasks.revalue_all_portfolios": {"queue": "slow"},
    "portfolios.tasks.revalue_portfolios": {"queue": "slow"},
    "portfolios.tasks.snapshot_all_portfolios": {"queue": "slow"},
    "portfolios.tasks.snapshot_portfolios": {"queue": "slow"},
}
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portfolios:dashboard"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Yieldledger] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth keeps its counters in the cache (Redis when configured).
ACCOUNT_RATE_LIMITS: dict[str, str | None] = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}

# --- Email ------------------------------------------------------------------
# EMAIL_URL e.g. smtp+tls://user:password@smtp.example.com:587
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Yieldledger <no-reply@yieldledger.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- I18N / time ---------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic writes STATIC_ROOT/staticfiles.json (hashed, compressed files). Until it has run,
# a DEBUG=false process serves the files from the apps' static folders, unhashed, rather than
# a 500 on every page; `manage.py check --deploy` warns (yieldledger.W001, config/checks.py).
STATIC_MANIFEST_READY = (Path(STATIC_ROOT) / "staticfiles.json").is_file()
if not DEBUG and not STATIC_MANIFEST_READY:
    WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or not STATIC_MANIFEST_READY
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"

# --- Security (production.py and DEBUG=false tighten further) -------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# No inline script or style anywhere; every asset is served by us.
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Off only for plain-HTTP loopback runs (benchmarks/load/run.py); never behind real HTTPS.
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "token": "10/min",
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yieldledger API",
    "DESCRIPTION": "Pools, portfolios, analytics, tax reports and education for DeFi users.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.idempotency.document_header",  # the Idempotency-Key header on every create
    ],
    # Several models have a "kind"; give each choice set its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "PoolKindEnum": "pools.models.Pool.Kind",
        "PositionKindEnum": "portfolios.models.Position.Kind",
        "TransactionKindEnum": "portfolios.ledger.TX_KIND_CHOICES",
        "TransactionCategoryEnum": "portfolios.ledger.TX_CATEGORY_CHOICES",
        "CategoryEnum": "pools.models.Protocol.Category",
        "IncomeTypeEnum": "portfolios.ledger.INCOME_TYPE_CHOICES",
    },
}

# /healthz shows its details (each check) to staff, and to requests whose X-Health-Token
# header equals this (monitoring without a session). Empty: staff only.
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")

# --- Product settings -------------------------------------------------------
# Which pool data source the refresh uses: "bundled" (files shipped in the
# repository; works offline) or "defillama" (the live API).
POOL_SOURCE = env.str("POOL_SOURCE", default="bundled")
# The live source: base URL, per-connect/per-read timeout, retries inside one fetch, and the
# overall deadline of one fetch (retries included; a trickling body cannot outlast it). The
# deadline must leave the refresh time to ingest before the task's soft time limit.
POOL_SOURCE_URL = env.str("POOL_SOURCE_URL", default="https://yields.llama.fi")
POOL_SOURCE_TIMEOUT_SECONDS = env.float("POOL_SOURCE_TIMEOUT_SECONDS", default=30.0)
POOL_SOURCE_RETRIES = env.int("POOL_SOURCE_RETRIES", default=3)
POOL_SOURCE_DEADLINE_SECONDS = env.float("POOL_SOURCE_DEADLINE_SECONDS", default=120.0)
# A /pools answer with fewer valid pools than this is taken for a partial one and refused.
POOL_SOURCE_MIN_POOLS = env.int("POOL_SOURCE_MIN_POOLS", default=1000)
if POOL_SOURCE_DEADLINE_SECONDS >= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("POOL_SOURCE_DEADLINE_SECONDS must be shorter than CELERY_TASK_SOFT_TIME_LIMIT "
                               "(leave the refresh time to ingest: a minute or more).")
# When a refresh fails (source down, soft time limit), the task retries after 60 s, then
# doubling up to 10 minutes, until the retries span an outage of POOL_REFRESH_RETRY_COVER_SECONDS.
POOL_REFRESH_RETRY_FIRST_SECONDS = env.int("POOL_REFRESH_RETRY_FIRST_SECONDS", default=60)
POOL_REFRESH_RETRY_MAX_SECONDS = env.int("POOL_REFRESH_RETRY_MAX_SECONDS", default=600)
POOL_REFRESH_RETRY_COVER_SECONDS = env.int("POOL_REFRESH_RETRY_COVER_SECONDS", default=60 * 60)
if POOL_REFRESH_RETRY_MAX_SECONDS > TASK_RETRY_MAX_DELAY_SECONDS:
    raise ImproperlyConfigured("POOL_REFRESH_RETRY_MAX_SECONDS may not exceed TASK_RETRY_MAX_DELAY_SECONDS.")
# A pool missing from this many consecutive refreshes becomes inactive (never deleted).
POOL_INACTIVE_AFTER_MISSES = env.int("POOL_INACTIVE_AFTER_MISSES", default=3)
# Spike guard (pools/guard.py): a metric moving more than this factor against its last
# accepted value is held back until the new level has lasted POOL_SPIKE_WINDOW_HOURS.
POOL_SPIKE_RATIO = env.int("POOL_SPIKE_RATIO", default=5)
POOL_SPIKE_WINDOW_HOURS = env.int("POOL_SPIKE_WINDOW_HOURS", default=5)
# Sorting by an APY leaves out pools under this TVL and APY outliers (flagged by the source,
# or above POOL_APY_OUTLIER_PCT) unless the user asks for all pools (?show_all=true).
POOL_APY_SORT_MIN_TVL_USD = env.int("POOL_APY_SORT_MIN_TVL_USD", default=100_000)
POOL_APY_OUTLIER_PCT = env.int("POOL_APY_OUTLIER_PCT", default=1_000)
# Pages say the data is stale when the last good refresh is older than this.
POOL_STALE_AFTER_HOURS = env.int("POOL_STALE_AFTER_HOURS", default=3)
# "Now" values (positions, dashboard, API) say their price is stale beside the number when it is older than this.
PRICE_STALE_AFTER_HOURS = env.int("PRICE_STALE_AFTER_HOURS", default=24)
# The dashboard's and the API's summary of a portfolio is cached this long, keyed on the
# portfolio's ledger version: any change to it shows at once; prices and pool yields move the
# figures within this many seconds (prices refresh every 5 minutes). 0 turns the cache off.
PORTFOLIO_SUMMARY_CACHE_SECONDS = env.int("PORTFOLIO_SUMMARY_CACHE_SECONDS", default=300)
if PORTFOLIO_SUMMARY_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("PORTFOLIO_SUMMARY_CACHE_SECONDS cannot be negative.")
if PRICE_STALE_AFTER_HOURS < 1:
    raise ImproperlyConfigured("PRICE_STALE_AFTER_HOURS must be at least 1.")
# refresh_prices also covers the tokens of active pools at least this large.
POOL_PRICE_MIN_TVL_USD = env.int("POOL_PRICE_MIN_TVL_USD", default=10_000_000)
SUPPORTED_FIAT = ["USD"]

# FX rates (docs/fx.md): the ECB feeds fetched by pools.tasks.refresh_fx_rates.
FX_ECB_BASE_URL = env.str("FX_ECB_BASE_URL", default="https://www.ecb.europa.eu/stats/eurofxref/")
FX_ECB_TIMEOUT = env.float("FX_ECB_TIMEOUT", default=20.0)  # seconds per request
FX_ECB_RETRIES = env.int("FX_ECB_RETRIES", default=3)  # in-request retries (then the task's own, with backoff)
# A fetched rate moving more than this fraction (0.5 = ×1.5 up or ÷1.5 down) from the
# previous accepted rate of its currency is rejected; the last good rate stays in force.
try:
    FX_MAX_DAILY_MOVE = Decimal(env.str("FX_MAX_DAILY_MOVE", default="0.5"))
except InvalidOperation:
    raise ImproperlyConfigured("FX_MAX_DAILY_MOVE must be a decimal number such as 0.5.") from None
# A day without a published rate uses the last one before it, at most this many days back.
FX_MAX_AGE_DAYS = env.int("FX_MAX_AGE_DAYS", default=7)
if not (FX_MAX_DAILY_MOVE.is_finite() and FX_MAX_DAILY_MOVE > 0) or FX_MAX_AGE_DAYS < 0 or FX_ECB_TIMEOUT <= 0:
    raise ImproperlyConfigured("FX_MAX_DAILY_MOVE and FX_ECB_TIMEOUT must be positive, FX_MAX_AGE_DAYS not negative.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # In process (no REDIS_URL) every task's success line would flood the
    # console of `make run`; a worker keeps them.
    "loggers": {"celery.app.trace": {"level": "WARNING" if not REDIS_URL else "INFO"}},
}

# Wallet sync (portfolios.wallets; docs/wallets.md). Per-chain RPC URLs and explorer keys come
# from WALLETS_RPC_URLS_<SLUG> / WALLETS_EXPLORER_KEY[_<SLUG>], read when a sync starts.
# Syncs of one chain running at once across all workers (a Redis semaphore).
WALLETS_CHAIN_CONCURRENCY = env.int("WALLETS_CHAIN_CONCURRENCY", default=4)
# Retries of a failed or rate-limited RPC call (exponential backoff from 0.5 s, at most 30 s).
WALLETS_RPC_RETRIES = env.int("WALLETS_RPC_RETRIES", default=5)
if WALLETS_CHAIN_CONCURRENCY < 1 or WALLETS_RPC_RETRIES < 0:
    raise ImproperlyConfigured("WALLETS_CHAIN_CONCURRENCY must be at least 1, WALLETS_RPC_RETRIES not negative.")

# --- The API as a product (issue 13; docs/api.md) ----------------------------------------------
# Every API error is RFC 9457 problem JSON (config/api/problems.py, config/api/exceptions.py).
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "config.api.exceptions.problem_exception_handler"
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "config.api.exceptions.SafeJSONParser",  # malformed or too deeply nested JSON: 400, never 500
    "rest_framework.parsers.FormParser",
    "rest_framework.parsers.MultiPartParser",
]
# The first authentication class names the WWW-Authenticate challenge of a 401: token first,
# so a request without credentials is told how to authenticate (401), not refused (403).
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "rest_framework.authentication.TokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]

# Client IP: X-Forwarded-For is believed only through this many trusted reverse proxies
# (0 = use the socket address; a client-supplied header then changes nothing). Used by the
# login limits (allauth), the API throttles (DRF) and config.clientip.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT

# App clients sign up and log in over the API (allauth headless, "app" client, under
# /api/auth/app/v1/); the browser keeps the web pages and its session cookie.
INSTALLED_APPS += ["allauth.headless", "allauth.usersessions", "corsheaders"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.common.CommonMiddleware"),
                  "corsheaders.middleware.CorsMiddleware")
MIDDLEWARE += [
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
HEADLESS_CLIENTS = ("app",)
HEADLESS_TOKEN_STRATEGY = "allauth.headless.tokens.strategies.jwt.JWTTokenStrategy"  # noqa: S105 - a class path
# Access tokens are short-lived JWTs (HS256, signed with API_JWT_SECRET or SECRET_KEY);
# the refresh token (rotated on each use) gets a new one. Both die with their session:
# logout, password change or reset, or "sign out" on the web settings page revoke them at once
# (stateful validation: each request checks the session still exists).
HEADLESS_JWT_ALGORITHM = "HS256"
HEADLESS_JWT_PRIVATE_KEY = env.str("API_JWT_SECRET", default="")
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env.int("API_ACCESS_TOKEN_SECONDS", default=15 * 60)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env.int("API_REFRESH_TOKEN_SECONDS", default=30 * 24 * 60 * 60)
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True
HEADLESS_JWT_ROTATE_REFRESH_TOKEN = True
# A password change ends every session of the user, this one included, so every token dies.
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
# The legacy DRF token of POST /api/v1/auth/token/ (deprecated) expires after this long.
API_LEGACY_TOKEN_SECONDS = env.int("API_LEGACY_TOKEN_SECONDS", default=24 * 60 * 60)
# The API accepts, in this order: the headless JWT (Authorization: Bearer), the legacy token
# (Authorization: Token), the browser session. The first names the 401 challenge.
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "allauth.headless.contrib.rest_framework.authentication.JWTTokenAuthentication",
    "accounts.api.authentication.ExpiringTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
# Brute-force limits on credential endpoints (accounts/limits.py): "count/seconds" per client
# IP and per account-and-client together, so that knowing an email is not enough to lock its
# owner out. Logins count failures; reset, verification resend and sign-up count attempts.
CREDENTIAL_LIMITS = {
    "login": {"ip": env.str("LOGIN_LIMIT_IP", default="20/60"),
              "account": env.str("LOGIN_LIMIT_ACCOUNT", default="5/300")},
    "reset": {"ip": "10/300", "account": "3/300"},
    "resend": {"ip": "10/300", "account": "3/300"},
    "signup": {"ip": "10/300", "account": "3/300"},
}
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
                  "accounts.limits.CredentialLimitMiddleware")
# allauth's own failed-login counter is keyed on the email alone (anyone could lock an
# account); ours above replaces it. Its other limits (emails sent) stay as an extra guard.
ACCOUNT_RATE_LIMITS = {**ACCOUNT_RATE_LIMITS, "login_failed": None}

# CORS for app/web clients on other origins (e.g. https://app.example.com); none by default.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api|_allauth)/.*$"
CORS_EXPOSE_HEADERS = ["Retry-After", "Location", "Idempotent-Replayed", "WWW-Authenticate"]
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with",
                      "idempotency-key", "x-session-token"]
# Browser features no page of ours uses are switched off for every response.
PERMISSIONS_POLICY = env.str(
    "PERMISSIONS_POLICY",
    default="accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
            "payment=(), usb=()",
)
# Every operation documents its problem-details errors (config/api/schema.py).
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [*list(SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]),  # type: ignore[call-overload]
                                                "config.api.schema.document_errors"]
# Alerts and opportunities (alerts/; docs/alerts.md).
# Absolute links in alert emails (unsubscribe, notification centre) start with this.
ALERTS_SITE_URL = env.str("ALERTS_SITE_URL", default="http://127.0.0.1:8000")
# Pools per evaluation chunk: each chunk is one transaction of a constant number of queries.
ALERTS_EVALUATE_CHUNK = env.int("ALERTS_EVALUATE_CHUNK", default=2000)
# Opportunities leave out pools under this TVL and APY outliers unless asked (?show_all=true).
OPPORTUNITIES_MIN_TVL_USD = env.int("OPPORTUNITIES_MIN_TVL_USD", default=1_000_000)
OPPORTUNITIES_PER_TOKEN = env.int("OPPORTUNITIES_PER_TOKEN", default=3)
# The API reads JSON only (CSV import declares its own multipart parser): one documented request
# format, and form-encoded junk is a 415 instead of half-parsed fields.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["config.api.exceptions.SafeJSONParser"]
