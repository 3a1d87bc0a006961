"""DockerForge settings: every value comes from the environment, with safe defaults."""

from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

from .env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    generate_secret_key,
    secret_file,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DOCKERFORGE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or secret_file(VAR_DIR / "secret_key", generate_secret_key)
# Newest key first; older keys still decrypt (MultiFernet rotation).
ENCRYPTION_KEYS = env_list("DOCKERFORGE_ENCRYPTION_KEYS") or [
    secret_file(VAR_DIR / "encryption_key", lambda: Fernet.generate_key().decode())
]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("DOCKERFORGE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "channels",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    # Our apps, bottom-up (DESIGN.md): an app may import only those above it.
    "apps.core",
    "apps.engine",
    "apps.accounts",
    "apps.activity",
    "apps.hosts",
    "apps.containers",
    "apps.scans",
    "apps.compose",
    "apps.monitoring",
    "apps.alerts",
    "apps.backups",
    "apps.updates",
    "apps.ai",
    "apps.notifications",
    "apps.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.ActorMiddleware",
    "apps.accounts.middleware.CurrentTeamMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "dockerforge.urls"
WSGI_APPLICATION = "dockerforge.wsgi.application"
ASGI_APPLICATION = "dockerforge.asgi.application"

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
                "apps.accounts.context_processors.teams",
                "apps.core.context_processors.degraded",
            ],
        },
    }
]

# --- Database: SQLite in var/ by default (WAL, IMMEDIATE transactions), PostgreSQL via URL.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'dockerforge.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # web, worker, beat, listener and collectors all write: take the write lock up front
        # and wait for it rather than failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{env_str('DOCKERFORGE_RUN_ID', 'local')}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_dockerforge_{env_str('DOCKERFORGE_RUN_ID', 'local')}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Login rate limit: attempts per window per (username) and per client address.
LOGIN_RATE_LIMIT = env_int("DOCKERFORGE_LOGIN_RATE_LIMIT", 10)
LOGIN_RATE_WINDOW = env_int("DOCKERFORGE_LOGIN_RATE_WINDOW", 300)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DOCKERFORGE_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Redis, cache, channels, Celery. With no Redis at all the portal still starts:
# in-memory layers and eager tasks, shown as "degraded" in the UI and /readyz.
REDIS_URL = env_str("REDIS_URL")
REDIS_PREFIX = env_str("DOCKERFORGE_REDIS_PREFIX", "dockerforge")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_PREFIX}:asgi"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# kombu spells a Redis unix socket "redis+socket://" where redis-py says "unix://".
CELERY_BROKER_URL = (
    REDIS_URL.replace("unix://", "redis+socket://", 1) if REDIS_URL.startswith("unix://") else REDIS_URL
) or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660)
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_PREFIX}:celery:"}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.rest.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.rest.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": f"{LOGIN_RATE_LIMIT}/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DockerForge API",
    "DESCRIPTION": "Manage Docker hosts, containers and more. Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Outbound-address policy (DESIGN.md): which addresses teams may make us connect to.
# Loopback, link-local and cloud-metadata addresses are denied by default; private ranges
# are allowed (Docker hosts live there). CIDRs in ALLOW win over the default denials.
OUTBOUND_ALLOW = env_list("DOCKERFORGE_OUTBOUND_ALLOW")
OUTBOUND_DENY = env_list("DOCKERFORGE_OUTBOUND_DENY")

# --- Docker engines
ENGINE_TIMEOUT = env_float("DOCKERFORGE_ENGINE_TIMEOUT", 10.0)
ENGINE_CONNECT_TIMEOUT = env_float("DOCKERFORGE_ENGINE_CONNECT_TIMEOUT", 5.0)
ENGINE_POOL_SIZE = env_int("DOCKERFORGE_ENGINE_POOL_SIZE", 16)
ENGINE_API_VERSION = env_str("DOCKERFORGE_ENGINE_API_VERSION", "1.41")
HOST_SWEEP_INTERVAL = env_int("DOCKERFORGE_HOST_SWEEP_INTERVAL", 30)
HOST_LEASE_SECONDS = env_int("DOCKERFORGE_HOST_LEASE_SECONDS", 60)
# Events listener (containers): lease renewal/watchdog tick and reconnect backoff (seconds);
# periodic full mirror sync (beat) as a safety net behind the listener.
LISTENER_TICK_SECONDS = env_float("DOCKERFORGE_LISTENER_TICK", 10.0)
LISTENER_BACKOFF_MIN = env_float("DOCKERFORGE_LISTENER_BACKOFF_MIN", 1.0)
LISTENER_BACKOFF_MAX = env_float("DOCKERFORGE_LISTENER_BACKOFF_MAX", 60.0)
MIRROR_SYNC_INTERVAL = env_int("DOCKERFORGE_MIRROR_SYNC_INTERVAL", 300)

# --- Scans: a vulnerability database older than this shows as stale on every report.
SCANS_DB_STALE_DAYS = env_int("DOCKERFORGE_SCANS_DB_STALE_DAYS", 7)
SCANS_RESCAN_INTERVAL = env_int("DOCKERFORGE_SCANS_RESCAN_INTERVAL", 86400)
SCANS_ENGINE_TIMEOUT = env_float("DOCKERFORGE_SCANS_ENGINE_TIMEOUT", 300.0)

# --- Images, volumes and helper containers (containers app)
INTERACTIVE_ENGINE_TIMEOUT = env_float("DOCKERFORGE_INTERACTIVE_ENGINE_TIMEOUT", 15.0)  # reads a person waits for
IMAGE_PULL_TIMEOUT = env_float("DOCKERFORGE_IMAGE_PULL_TIMEOUT", 300.0)  # longest silence in a pull/build stream
BUILD_CONTEXT_DIR = env_str("DOCKERFORGE_BUILD_CONTEXT_DIR", str(VAR_DIR / "build-contexts"))  # shared by web and worker
BUILD_CONTEXT_MAX_BYTES = env_int("DOCKERFORGE_BUILD_CONTEXT_MAX_BYTES", 100 * 1024 * 1024)
# The helper image (volume browse, backups): built on the server's own engine from a static
# busybox when missing, and provisioned to hosts that lack it (docker save | docker load).
HELPER_IMAGE = env_str("DOCKERFORGE_HELPER_IMAGE", "dockerforge/helper:1")
HELPER_IMAGE_ARCHIVE = env_str("DOCKERFORGE_HELPER_IMAGE_ARCHIVE")  # a `docker save` tar to load from
HELPER_BUSYBOX = env_str("DOCKERFORGE_HELPER_BUSYBOX", "/bin/busybox")  # a static busybox binary
LOCAL_ENGINE_URL = env_str("DOCKERFORGE_LOCAL_ENGINE_URL", "unix:///var/run/docker.sock")  # the server's own engine
VOLUME_DOWNLOAD_MAX_BYTES = env_int("DOCKERFORGE_VOLUME_DOWNLOAD_MAX_BYTES", 20 * 1024 * 1024)
VOLUME_LIST_MAX_ENTRIES = env_int("DOCKERFORGE_VOLUME_LIST_MAX_ENTRIES", 2000)
# Backups: artifacts in a local folder (owner-only files); the engine timeout covers one
# archive call's socket reads; retention refuses to prune when the newest backup is below
# this share of the usual size.
BACKUP_DIR = env_str("DOCKERFORGE_BACKUP_DIR", str(VAR_DIR / "backups"))
BACKUP_ENGINE_TIMEOUT = env_float("DOCKERFORGE_BACKUP_ENGINE_TIMEOUT", 300.0)
BACKUP_SUSPICIOUS_RATIO = env_float("DOCKERFORGE_BACKUP_SUSPICIOUS_RATIO", 0.5)
# Incremental volume backups: after this many increments on one full, the next backup is a
# full one again (a restore replays the whole chain; shorter chains restore faster).
BACKUP_INCREMENTAL_MAX_CHAIN = env_int("DOCKERFORGE_BACKUP_INCREMENTAL_MAX_CHAIN", 30)
# Recreate (edit, updates): how long a new container must keep running (and end healthy,
# when it has a health check) before the old one is removed; a check still "starting"
# gets the grace on top.
RECREATE_HEALTH_SECONDS = env_float("DOCKERFORGE_RECREATE_HEALTH_SECONDS", 10.0)
RECREATE_HEALTH_GRACE_SECONDS = env_float("DOCKERFORGE_RECREATE_HEALTH_GRACE_SECONDS", 120.0)

# --- Retention (days)
EVENT_RETENTION_DAYS = env_int("DOCKERFORGE_EVENT_RETENTION_DAYS", 30)
AUDIT_RETENTION_DAYS = env_int("DOCKERFORGE_AUDIT_RETENTION_DAYS", 365)
OPERATION_RETENTION_DAYS = env_int("DOCKERFORGE_OPERATION_RETENTION_DAYS", 30)
PRUNE_BATCH_SIZE = env_int("DOCKERFORGE_PRUNE_BATCH_SIZE", 1000)

# --- Monitoring (apps.monitoring): sample interval, collection method, retention per tier
METRICS_INTERVAL = env_int("DOCKERFORGE_METRICS_INTERVAL", 10)
METRICS_DISK_INTERVAL = env_int("DOCKERFORGE_METRICS_DISK_INTERVAL", 300)
METRICS_METHOD = env_str("DOCKERFORGE_METRICS_METHOD", "auto")  # auto | api | cgroup
METRICS_CGROUP_ROOT = env_str("DOCKERFORGE_METRICS_CGROUP_ROOT", "/sys/fs/cgroup")
METRICS_PROC_ROOT = env_str("DOCKERFORGE_METRICS_PROC_ROOT", "/proc")
METRICS_MAX_CONCURRENCY = env_int("DOCKERFORGE_METRICS_MAX_CONCURRENCY", 128)
METRICS_RAW_RETENTION_HOURS = env_int("DOCKERFORGE_METRICS_RAW_RETENTION_HOURS", 24)
METRICS_MINUTE_RETENTION_DAYS = env_int("DOCKERFORGE_METRICS_MINUTE_RETENTION_DAYS", 14)
METRICS_HOUR_RETENTION_DAYS = env_int("DOCKERFORGE_METRICS_HOUR_RETENTION_DAYS", 400)
METRICS_ROLLUP_LAG = env_int("DOCKERFORGE_METRICS_ROLLUP_LAG", 30)
METRICS_PRUNE_BATCH = env_int("DOCKERFORGE_METRICS_PRUNE_BATCH", 5000)
METRICS_TOKEN = env_str("DOCKERFORGE_METRICS_TOKEN")  # set: /metrics needs "Authorization: Bearer <token>"

# --- Email
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "DockerForge <dockerforge@localhost>")

# --- AI defaults a team may opt into (later issues)
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY")
GEMINI_API_KEY = env_str("GEMINI_API_KEY")

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"paramiko": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}

# --- Compose stacks: where stacks created in the portal live, which CLI runs them.
COMPOSE_STACKS_DIR = Path(env_str("DOCKERFORGE_STACKS_DIR", str(BASE_DIR / "var" / "stacks")))
COMPOSE_CLI = env_str("DOCKERFORGE_COMPOSE_CLI", "auto")  # "auto", "docker compose" or a docker-compose path
COMPOSE_TIMEOUT = env_int("DOCKERFORGE_COMPOSE_TIMEOUT", 600)
COMPOSE_REGISTRY_CHECK = env_bool("DOCKERFORGE_COMPOSE_REGISTRY_CHECK", True)

# --- Updates: registry checks, auto-update windows, DockerForge's own release feed and upgrades.
UPDATES_CHECK_INTERVAL = env_int("DOCKERFORGE_UPDATES_CHECK_INTERVAL", 6 * 3600)
UPDATES_WINDOW_TICK = env_int("DOCKERFORGE_UPDATES_WINDOW_TICK", 300)  # how often beat looks for open windows
UPDATES_REGISTRY_TIMEOUT = env_float("DOCKERFORGE_UPDATES_REGISTRY_TIMEOUT", 10.0)
# Registries spoken to over plain HTTP (loopback ones always are, as dockerd does).
UPDATES_INSECURE_REGISTRIES = env_list("DOCKERFORGE_UPDATES_INSECURE_REGISTRIES")
RELEASE_FEED_URL = env_str("DOCKERFORGE_RELEASE_FEED_URL")  # off by default; never required
RELEASE_FEED_TIMEOUT = env_float("DOCKERFORGE_RELEASE_FEED_TIMEOUT", 5.0)
RELEASE_FEED_CACHE_SECONDS = env_int("DOCKERFORGE_RELEASE_FEED_CACHE_SECONDS", 6 * 3600)
UPGRADE_SNAPSHOT_DIR = Path(env_str("DOCKERFORGE_UPGRADE_SNAPSHOT_DIR", str(VAR_DIR / "snapshots")))
# --- Alerts: the periodic evaluation, bounds of log-pattern rules, evidence kept per alert.
ALERTS_INTERVAL = env_int("DOCKERFORGE_ALERTS_INTERVAL", 15)
ALERTS_LOG_MAX_CONTAINERS = env_int("DOCKERFORGE_ALERTS_LOG_MAX_CONTAINERS", 20)
ALERTS_LOG_MAX_LINES = env_int("DOCKERFORGE_ALERTS_LOG_MAX_LINES", 500)
ALERTS_EVIDENCE_MAX = env_int("DOCKERFORGE_ALERTS_EVIDENCE_MAX", 20)
ALERTS_LOCAL_DOCKER_ROOT = env_str("DOCKERFORGE_ALERTS_LOCAL_DOCKER_ROOT", "/var/lib/docker")

CELERY_BEAT_SCHEDULE = {
    "activity-prune": {"task": "activity.prune", "schedule": 3600.0},
    "hosts-sweep": {"task": "hosts.sweep", "schedule": float(HOST_SWEEP_INTERVAL)},
    "scans-rescan": {"task": "scans.rescan_all", "schedule": float(SCANS_RESCAN_INTERVAL)},
    "containers-sync": {"task": "containers.sync_all", "schedule": float(MIRROR_SYNC_INTERVAL)},
    "compose-discover": {"task": "compose.discover_all", "schedule": 300.0},
    "monitoring-rollup": {"task": "monitoring.rollup", "schedule": 60.0},
    "monitoring-prune": {"task": "monitoring.prune", "schedule": 900.0},
    "updates-check-all": {"task": "updates.check_all", "schedule": float(UPDATES_CHECK_INTERVAL)},
    "updates-windows": {"task": "updates.windows", "schedule": float(UPDATES_WINDOW_TICK)},
    "updates-release-feed": {"task": "updates.release_feed", "schedule": 86400.0},
    "notifications-tick": {"task": "notifications.tick", "schedule": env_float("DOCKERFORGE_NOTIFICATIONS_TICK_SECONDS", 10.0)},
    "alerts-evaluate": {"task": "alerts.evaluate", "schedule": float(ALERTS_INTERVAL)},
}

# --- AI chat memory: recent turns sent as they are up to this many tokens (~chars/4); older
# turns are summarised into the conversation's summary.
AI_CHAT_MEMORY_TOKENS = env_int("DOCKERFORGE_AI_CHAT_MEMORY_TOKENS", 3000)
AI_CHAT_SUMMARY_CHARS = env_int("DOCKERFORGE_AI_CHAT_SUMMARY_CHARS", 4000)
