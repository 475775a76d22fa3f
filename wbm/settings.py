"""Settings for the WBM, driven by the environment.

Embedded mode (the default, nothing set): SQLite, the in-memory channel layer, a process-local
cache for the live snapshot, Celery tasks run eagerly, the controller runtime runs inside the web
process. Scaled mode (``REDIS_URL`` and usually ``DATABASE_URL`` set): PostgreSQL, Redis as
channel layer, cache and Celery broker, and the runtime in its own process.

All state lives under one state directory: ``./var`` or ``WBM_STATE_DIR``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from wbm import statedir
from wbm.hosts import allowed_hosts

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# --- state directory -------------------------------------------------------------------------
# Private from the start: the database (password hashes, session keys, API tokens), the secret
# key and the logs are created 0600, directories 0700 (runwbm/runcontroller check it at start).
statedir.make_private_by_default()
STATE_DIR = Path(os.environ.get("WBM_STATE_DIR", BASE_DIR / "var")).resolve()
STATE_DIR.mkdir(parents=True, exist_ok=True)
LOG_DIR = STATE_DIR / "logs"
LOG_DIR.mkdir(exist_ok=True)
MEDIA_ROOT = STATE_DIR / "uploads"
RENDERED_DIR = STATE_DIR / "rendered"  # configuration the OS backend renders


def _secret_key() -> str:
    """Generated on first run and kept in the state directory, never in the repository; an empty
    or damaged file (a crash during the first start) is replaced by a new key."""
    if key := os.environ.get("WBM_SECRET_KEY"):
        return key
    return statedir.secret_key(STATE_DIR / "secret_key")


SECRET_KEY = _secret_key()
DEBUG = _env_bool("WBM_DEBUG")
HTTPS = _env_bool("WBM_HTTPS")  # served behind TLS: secure cookies, HSTS, redirect
# Hosts the WBM answers to: the controller's own names and addresses, plus WBM_ALLOWED_HOSTS.
# Any other Host header gets 400 (pages) or a refused handshake (WebSockets), so a web page on
# the internet cannot reach the WBM through DNS rebinding in an installer's browser.
ALLOWED_HOSTS = allowed_hosts(os.environ.get("WBM_ALLOWED_HOSTS", ""))

# --- mode ------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
SCALED = bool(REDIS_URL)
# Embedded: the runtime lives in the web process and commands are local calls.
# Scaled: the runtime is its own process and commands travel over the channel layer.
WBM_RUNTIME_TRANSPORT = os.environ.get("WBM_RUNTIME_TRANSPORT", "channels" if SCALED else "local")
WBM_CONTROLLER_BACKEND = os.environ.get("WBM_CONTROLLER_BACKEND", "wbm.runtime.backends.simulated.SimulatedBackend")
WBM_TICK_S = float(os.environ.get("WBM_TICK_S", "1.0"))  # physics + publish period
WBM_PERSIST_EVERY_S = float(os.environ.get("WBM_PERSIST_EVERY_S", "10"))
# load management: the TCP port of a higher-level measuring device (Modbus/TCP; 502 on the device)
WBM_LOADMGMT_METER_PORT = int(os.environ.get("WBM_LOADMGMT_METER_PORT", "502"))
# charging sessions: one power/energy sample per running session this often (ledger.agent)
WBM_SESSION_SAMPLE_S = float(os.environ.get("WBM_SESSION_SAMPLE_S", "60"))
# Scaled mode: the runtime's lease in Redis (one runtime drives the park; a standby takes over
# within about WBM_LEASE_TTL_S + WBM_LEASE_RETRY_S after the holder dies).
WBM_LEASE_TTL_S = float(os.environ.get("WBM_LEASE_TTL_S", "3"))
WBM_LEASE_RETRY_S = float(os.environ.get("WBM_LEASE_RETRY_S", "0.5"))
# Scaled mode: a runtime whose heartbeat is older than this is not running (pages grey their
# values and say so, operations answer 503 at once). The runtime publishes at least every tick.
WBM_STALE_AFTER_S = float(os.environ.get("WBM_STALE_AFTER_S", str(max(2.0, 2.5 * WBM_TICK_S))))
WBM_SERVER_TIMING = _env_bool("WBM_SERVER_TIMING")  # Server-Timing header (benchmark, dev tools)
# Modbus/TCP server (the CHARX register map for evcc, Home Assistant, EMS): address and port
WBM_MODBUS_HOST = os.environ.get("WBM_MODBUS_HOST", "0.0.0.0")  # all interfaces, as the controller
WBM_MODBUS_PORT = int(os.environ.get("WBM_MODBUS_PORT", "502"))  # 0: a free port (tests)

# The OCPP 1.6J charge point (ocppcfg): the connection to the backend and its transfers.
WBM_OCPP_BACKOFF_MIN_S = float(os.environ.get("WBM_OCPP_BACKOFF_MIN_S", "1"))  # reconnect back-off, doubling
WBM_OCPP_BACKOFF_MAX_S = float(os.environ.get("WBM_OCPP_BACKOFF_MAX_S", "60"))
WBM_OCPP_CALL_TIMEOUT_S = float(os.environ.get("WBM_OCPP_CALL_TIMEOUT_S", "30"))  # wait for a CALLRESULT
WBM_OCPP_OPEN_TIMEOUT_S = float(os.environ.get("WBM_OCPP_OPEN_TIMEOUT_S", "10"))  # the WebSocket handshake
WBM_OCPP_BOOT_RETRY_S = float(os.environ.get("WBM_OCPP_BOOT_RETRY_S", "60"))  # no answer / interval 0
WBM_OCPP_TICK_S = float(os.environ.get("WBM_OCPP_TICK_S", "0.5"))
WBM_OCPP_RESET_FLUSH_S = float(os.environ.get("WBM_OCPP_RESET_FLUSH_S", "5"))  # a reset waits for the queue
WBM_OCPP_OUTBOX_MAX = int(os.environ.get("WBM_OCPP_OUTBOX_MAX", "10000"))  # then intermediate MeterValues go
WBM_OCPP_FIRMWARE_DIR = Path(os.environ.get("WBM_OCPP_FIRMWARE_DIR", STATE_DIR / "firmware"))
WBM_OCPP_DIAGNOSTICS_DIR = Path(os.environ.get("WBM_OCPP_DIAGNOSTICS_DIR", STATE_DIR / "diagnostics"))
WBM_OCPP_FIRMWARE_MAX_BYTES = int(os.environ.get("WBM_OCPP_FIRMWARE_MAX_BYTES", str(64 * 1024 * 1024)))
WBM_OCPP_TRANSFER_TIMEOUT_S = float(os.environ.get("WBM_OCPP_TRANSFER_TIMEOUT_S", "60"))
WBM_OCPP_TRANSFER_ATTEMPTS = int(os.environ.get("WBM_OCPP_TRANSFER_ATTEMPTS", "3"))  # when the backend gives none
WBM_OCPP_TRANSFER_RETRY_INTERVAL_S = float(os.environ.get("WBM_OCPP_TRANSFER_RETRY_INTERVAL_S", "30"))
WBM_OCPP_DIAGNOSTICS_HTTP_METHOD = os.environ.get("WBM_OCPP_DIAGNOSTICS_HTTP_METHOD", "POST")  # or PUT
# Network: the OS interface (network.osbackend) renders into WBM_SYSTEM_DIR; a change that can cut
# the user off comes back by itself unless confirmed within WBM_NETWORK_CONFIRM_S seconds
WBM_NETWORK_BACKEND = os.environ.get("WBM_NETWORK_BACKEND", "network.osbackend.RenderingBackend")
WBM_SYSTEM_DIR = Path(os.environ.get("WBM_SYSTEM_DIR", STATE_DIR / "system"))
WBM_NETWORK_CONFIRM_S = int(os.environ.get("WBM_NETWORK_CONFIRM_S", "90"))
# System Control: REBOOT SYSTEM (and the restarts of calibration law and module switch); "0" refuses
# them (a test server that must stay up while a fuzzer calls every operation)
WBM_SYSTEM_RESTART = os.environ.get("WBM_SYSTEM_RESTART", "1") != "0"
WBM_MQTT_LOCAL_URL = os.environ.get("WBM_MQTT_LOCAL_URL", "mqtt://127.0.0.1:1883")  # the local broker (mqttbridge)
# System Control: Import/Export files and update bundles name the device type; update bundles must be
# signed by one of these Ed25519 public keys (base64 or PEM; also <state>/update/trusted_keys/*.pub)
WBM_DEVICE_TYPE = os.environ.get("WBM_DEVICE_TYPE", "CHARX SEC-3100")
WBM_UPDATE_PUBLIC_KEYS = os.environ.get("WBM_UPDATE_PUBLIC_KEYS", "")
WBM_UPDATE_HEALTHY_AFTER_S = float(os.environ.get("WBM_UPDATE_HEALTHY_AFTER_S", "60"))  # then a new version stays
WBM_UPDATE_CLIENT_S = float(os.environ.get("WBM_UPDATE_CLIENT_S", "600"))  # per client module (manual: 10 min)

# --- apps ------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "wbm",
    "wbm.accounts",
    "wbm.dashboard",
    "wbm.system",
    "chargepoints",
    "ocppcfg",
    "modbus",
    "whitelist",
    "loadmgmt",
    "network",
    "vpn",
    "mqttbridge",
    "ledger",
    "calibration",
    "moduleswitch",
]

MIDDLEWARE = [
    "wbm.middleware.ServerTimingMiddleware",  # first: times everything below (off by default)
    "django.middleware.security.SecurityMiddleware",
    "wbm.outage.OutageMiddleware",  # early: database or Redis gone → 503, also from session/auth below
    "wbm.middleware.ContentSecurityPolicyMiddleware",  # before whitenoise: static files get it too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "wbm.middleware.RequestSizeLimitMiddleware",  # before CSRF's process_view reads the body
    "wbm.middleware.ValidUnicodeMiddleware",  # after the size limit: reads form bodies
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "wbm.accounts.middleware.PasswordChangeRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wbm.urls"
ASGI_APPLICATION = "wbm.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wbm.context_processors.shell",
            ],
            "builtins": ["wbm.templatetags.wbm"],
        },
    }
]

# --- data ------------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{STATE_DIR / 'wbm.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the runtime persist meter totals while pages read.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # tests: a file database, so the runtime's worker threads see committed data
    DATABASES["default"]["TEST"] = {"NAME": str(STATE_DIR / "test.sqlite3")}
elif "postg" in DATABASES["default"]["ENGINE"]:
    # a database that cannot be reached fails a start (wbm.startup) or a request (503) in
    # seconds, not after the operating system's TCP timeout
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 3
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "wbm"}
}
if SCALED:
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.retry import Retry

    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # passed to redis-py's ConnectionPool.from_url, so to every connection: a dead Redis fails
        # a request within a second or two (503, wbm.outage) instead of redis-py's 5 s
        "OPTIONS": {
            "socket_connect_timeout": 1,
            "socket_timeout": 2,
            "socket_keepalive": True,
            # a pooled connection idle this long is PINGed before use; one that Redis dropped (a
            # restart) is replaced at once by the one retry: a refused or reset connection is
            # retried on a new one, no backoff. A timeout is not retried (it would only double).
            "health_check_interval": 10,
            "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        },
    }
CHANNEL_LAYERS = {"default": {"BACKEND": "wbm.runtime.layers.LocalChannelLayer", "CONFIG": {"capacity": 500}}}
if SCALED:
    from redis.asyncio.retry import Retry as AsyncRetry

    CHANNEL_LAYERS["default"] = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    # longer than channels_redis's 5 s blocking pop (BZPOPMIN): a quiet channel is
                    # not an error (redis-py's default would be 5 s too)
                    "socket_timeout": 15,
                    "socket_connect_timeout": 2,
                    "socket_keepalive": True,
                    # as the cache: a pooled connection that Redis dropped (a restart) is replaced
                    "health_check_interval": 10,
                    "retry": AsyncRetry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                }
            ],
            "capacity": 500,
            "expiry": 30,
            # a consumer that died without leaving its groups is dropped after a minute; live
            # consumers join theirs again every 20 s (wbm.dashboard.consumers)
            "group_expiry": 60,
        },
    }

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not SCALED
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "wbm.accounts.tasks.clear_expired_sessions",
        "schedule": timedelta(hours=1),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(STATE_DIR / "celerybeat-schedule")  # `celery beat`'s state, not in the checkout

# --- auth, roles, sessions -------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:index"
LOGOUT_REDIRECT_URL = "dashboard:index"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "wbm.accounts.validators.NotADefaultPasswordValidator"},
]
if _env_bool("WBM_TEST_FAST_HASHING"):  # test runs only: hashing speed is not under test
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Sessions end after this much inactivity (every request slides the window).
SESSION_IDLE_MINUTES = int(os.environ.get("WBM_SESSION_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# A live WebSocket re-checks its session this often (seconds): expired, account disabled, role
# changed. Logout and a password change close a session's sockets at once.
WBM_SOCKET_RECHECK_S = float(os.environ.get("WBM_SOCKET_RECHECK_S", "60"))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "wbm.errors.csrf_failure"

# django-axes: repeated failed logins lock this username from this address for a while.
AXES_FAILURE_LIMIT = int(os.environ.get("WBM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("WBM_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "wbm.accounts.views.lockout"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Fails closed: when a failed attempt cannot be recorded (disk full), logins are refused.
AXES_HANDLER = "wbm.accounts.lockout.FailClosedDatabaseHandler"

# --- security --------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Everything from this origin only; no inline script, style or event handler and no eval (the
# templates wire behaviour in static/wbm/*.js). 'self' in connect-src covers the same-origin
# ws:// and wss:// of the live pages (CSP 3). data: images: Swagger UI's icons.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("WBM_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("WBM_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Request bodies: 1 MiB for forms and API calls; uploads have their own, larger limit.
WBM_MAX_REQUEST_BYTES = int(os.environ.get("WBM_MAX_REQUEST_BYTES", str(1024 * 1024)))
WBM_MAX_UPLOAD_BYTES = int(os.environ.get("WBM_MAX_UPLOAD_BYTES", str(2 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = WBM_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = WBM_MAX_UPLOAD_BYTES
# Stored files (uploads, collected static files) stay private like the rest of the state
# directory; Django's default would make them 0644. The app serves static files itself.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- i18n ------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "wbm_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # the controller works in UTC internally (manual, System Control/Time)

# --- static files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = STATE_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "WBM_STATICFILES_STORAGE",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
WHITENOISE_MAX_AGE = 3600

# --- API -------------------------------------------------------------------------------------
# API tokens end this many days after they were created (manage.py apitoken --days overrides it)
WBM_TOKEN_TTL_DAYS = int(os.environ.get("WBM_TOKEN_TTL_DAYS", "90"))
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # token first: an anonymous API call then gets 401 with WWW-Authenticate
        "wbm.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["wbm.access.HasPerm"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["wbm.api.parsers.SafeJSONParser"],  # depth limit, valid Unicode
    "DEFAULT_SCHEMA_CLASS": "wbm.api.schema.WbmAutoSchema",  # adds the error answers to every operation
    "EXCEPTION_HANDLER": "wbm.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WBM API",
    "DESCRIPTION": "REST API of the web-based management for AC charging controllers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise send the schema URL to validator.swagger.io (offline, and a leak)
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # one name per choice set that several fields share (else drf-spectacular invents names)
    "ENUM_NAME_OVERRIDES": {
        "WhitelistTagTypeEnum": ["rfid", "evccid"],
        "MeterConnectionEnum": ["none", "tcp", "rs485"],
        "MqttForwardingDirectionEnum": "mqttbridge.choices.Direction",
        "NetworkPortDirectionEnum": ["in", "out"],
    },
}

# --- logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "one_line_client_errors": {"()": "wbm.errors.OneLineClientErrors"},
        "rate_limited_request_errors": {
            "()": "wbm.errors.RateLimitedRequestErrors",
            "interval_s": float(os.environ.get("WBM_LOG_REPEAT_INTERVAL_S", "60")),
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(LOG_DIR / "wbm.log"),
            "maxBytes": 2 * 1024 * 1024,
            "backupCount": 5,
            "formatter": "plain",
            "delay": True,
        },
    },
    "root": {"handlers": ["console", "file"], "level": os.environ.get("WBM_LOG_LEVEL", "INFO")},
    "loggers": {
        # a refused request is one line (wbm.access), no traceback; a 500 keeps its traceback;
        # one line per client address and kind of error a minute, the rest counted
        "django.request": {"filters": ["one_line_client_errors", "rate_limited_request_errors"]},
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
