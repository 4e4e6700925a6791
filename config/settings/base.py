"""Settings shared by every environment. Everything that differs comes from the environment.

Zero configuration gives the embedded default: SQLite (WAL, immediate transactions) in
``$ZBOR_DATA_DIR`` (``./var``), a local-memory cache, no other service. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from zbor.sqlite_writers import WriterConnection

from .backups import ZBOR_ALERT_EMAILS, ZBOR_BACKUP_DIR, ZBOR_BACKUP_RECIPIENTS  # noqa: F401 (zbor/ops)
from .env import env_bool, env_list, env_str
from .logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("ZBOR_DATA_DIR", str(BASE_DIR / "var"))).resolve()

# Overridden by dev/test; production.py refuses anything but a real secret.
SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "zbor.accounts.admin_config.ZborAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "parler",
    "zbor.campaigns",
    "zbor.ledger",
    "zbor.payments",
    "zbor.donations",
    "zbor.disbursements",
    "zbor.cases",
    "zbor.api",
    # Serves the API docs page's own Swagger files: nothing from a CDN.
    "ninja",
    "zbor.site",
    "zbor.ops",
    "huey.contrib.djhuey",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Last: its post_migrate hook syncs the role groups once every app's permissions exist.
    "zbor.accounts",
]

MIDDLEWARE = [
    # /healthz and /readyz, answered before anything checks the Host, redirects or sets a cookie.
    "zbor.health.HealthCheckMiddleware",
    # Next: the request's id for every line logged below, and its one line (zbor/logs.py).
    "zbor.logs.RequestLogMiddleware",
    # First, so that every response carries the framing rules: redirects and refusals made by
    # the middleware below (HTTPS, host, trailing slash, language), static files and errors.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "zbor.site.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before LocaleMiddleware: it sees the API's answers last, after the ETag is set.
    "zbor.api.middleware.PublicApiHeadersMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "zbor.site.context_processors.site",
            ],
        },
    },
]


def _database(url: str) -> dj_database_url.DBConfig:
    if not url:
        url = f"sqlite:///{DATA_DIR / 'zbor.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Each server thread keeps its connection: opening one (and its PRAGMAs) costs more than most pages.
        config["CONN_MAX_AGE"] = 600
        config["OPTIONS"] = {
            # Writers take the lock when the transaction starts, so two writers queue
            # instead of failing with "database is locked" half-way through.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # secure_delete: what is deleted or overwritten (an erased donor's email) is zeroed
            # in the file, not left in free space (zbor.db.erase_residue clears the WAL).
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA secure_delete=ON;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        }
        if env_bool("ZBOR_SQLITE_WRITER_QUEUE", True):
            # The writers of a process queued in the process, not by SQLite's sleeping retries
            # (zbor/sqlite_writers.py): sqlite3.connect's documented ``factory`` argument.
            config["OPTIONS"]["factory"] = WriterConnection
    return config


DATABASES = {"default": _database(env_str("DATABASE_URL"))}
# Public pages and public API reads go to a read replica when one is named (zbor/db.py).
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {**_database(env_str("DATABASE_REPLICA_URL")), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["zbor.db.ReplicaRouter"]
# /readyz fails ("replica") when the replica is further behind than this (zbor/health.py).
ZBOR_READY_MAX_REPLICA_LAG_SECONDS = float(env_str("ZBOR_READY_MAX_REPLICA_LAG_SECONDS", "30"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache that falls back to the process's memory (and rate limits to
            # the database) while Redis cannot be reached: zbor/cache.py.
            "BACKEND": "zbor.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("ZBOR_CACHE_PREFIX", "zbor"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: English is the source; every UI string is translated to the other three.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ru", _("Russian")),
    ("be", _("Belarusian")),
    ("pl", _("Polish")),
]
LOCALE_PATHS = [Path(env_str("ZBOR_LOCALE_DIR", str(BASE_DIR / "locale")))]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True

# django-parler: content translations. Fallback to the campaign's own original language is
# done by zbor.campaigns.translation, not here, so that a Russian-only story falls back to
# Russian rather than to an empty English one.
PARLER_DEFAULT_LANGUAGE_CODE = "en"
PARLER_LANGUAGES = {
    None: tuple({"code": code} for code, _name in LANGUAGES),
    "default": {"fallbacks": [], "hide_untranslated": False},
}

STATIC_URL = "/static/"
# dev and test serve static files from the apps (None: no collectstatic).
STATIC_ROOT: Path | None = Path(env_str("ZBOR_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("ZBOR_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Every upload Zbor accepts (pictures, documents, proofs, statements: 15 MB at most) stays in
# memory until it is encrypted: never a plain temporary file on disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 5

# Security defaults that hold everywhere; production.py adds HTTPS-only ones.
SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin": other sites never learn where a visitor came from. Not "no-referrer": with it,
# Chromium sends "Origin: null" on form posts and Django's CSRF check refuses every form
# (see docs/decisions/0002-referrer-policy.md).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): every page may load only from this site. No inline
# script or style (a script that ever needs to be inline gets the request's nonce), no plugins,
# no <base>, no framing: only the embed widget may be framed (zbor/site/embed.py), and the donate
# form may also lead to the enabled card provider's checkout (zbor/site/donate_views.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# The CSRF cookie lasts as long as the browser session, not a year: a seized phone's cookie jar
# should not show that the donate form was opened weeks ago.
CSRF_COOKIE_AGE = None
# A refused form (an old page, cookies blocked) gets a translated page saying what to do, not Django's bare 403.
CSRF_FAILURE_VIEW = "zbor.site.errors.csrf_failure"

# LOG_LEVEL is for Zbor's own loggers; every library's stays at WARNING (config/settings/logs.py).
# LOG_FORMAT: text (plain lines, as always) or json (one object per line, a line per request).
LOG_FORMAT = env_str("LOG_FORMAT", "text").lower()
LOGGING = logging_config(env_str("LOG_LEVEL", "INFO"), LOG_FORMAT)
# Keep a proxy's X-Request-ID (16 to 32 lowercase hex digits, as nginx's $request_id) instead of
# drawing one: only when the proxy sets it on every request (zbor/logs.py).
ZBOR_TRUST_REQUEST_ID = env_bool("ZBOR_TRUST_REQUEST_ID", False)

# The foundation running this instance: shown in notes ("<name> note"), titles and feeds.
ZBOR_FOUNDATION_NAME = env_str("ZBOR_FOUNDATION_NAME", "Zbor Foundation")
# Public base URL for canonical links and Open Graph tags; empty means "from the request".
ZBOR_PUBLIC_URL = env_str("ZBOR_PUBLIC_URL").rstrip("/")
# The admin lives under a path of the operator's choosing, not the guessable /admin/.
ZBOR_ADMIN_PATH = env_str("ZBOR_ADMIN_PATH", "backoffice").strip("/") + "/"
ZBOR_CAMPAIGNS_PER_PAGE = int(env_str("ZBOR_CAMPAIGNS_PER_PAGE", "12"))
# Seconds a public page (campaign, list, home, transparency, feeds, public API reads) may be
# reused by the app's own cache (zbor/site/fastpath.py), the front server and browsers: how long
# a new donation may take to show. 0 turns the app's cache off.
ZBOR_PAGE_CACHE_SECONDS = float(env_str("ZBOR_PAGE_CACHE_SECONDS", "1"))
# Seconds a CDN or browser may reuse a public API answer (it revalidates cheaply with its ETag).
ZBOR_API_MAX_AGE = int(env_str("ZBOR_API_MAX_AGE", "1"))
# Demo data and the demo staff login: only ever true in dev and test settings.
ZBOR_DEMO = False
# Payments. Providers in the order the donate form offers them: demo (dev only), stripe, btcpay, bank.
ZBOR_PAYMENT_PROVIDERS = env_list("ZBOR_PAYMENT_PROVIDERS", [])
# What a donor's card statement and the provider see: nothing naming a campaign or a person.
ZBOR_PAYMENT_PRODUCT_NAME = env_str("ZBOR_PAYMENT_PRODUCT_NAME", "Donation")
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_STATEMENT_DESCRIPTOR_SUFFIX = env_str("STRIPE_STATEMENT_DESCRIPTOR_SUFFIX", "DONATION")
# Only for tests and local fakes; empty means Stripe's own API.
STRIPE_API_BASE = env_str("STRIPE_API_BASE")
# BTCPay Server (Bitcoin): the foundation's own server, its store, an API key allowed only to
# create and view invoices, and the secret of the store's webhook to /webhooks/btcpay/.
BTCPAY_URL = env_str("BTCPAY_URL")
BTCPAY_STORE_ID = env_str("BTCPAY_STORE_ID")
BTCPAY_API_KEY = env_str("BTCPAY_API_KEY")
BTCPAY_WEBHOOK_SECRET = env_str("BTCPAY_WEBHOOK_SECRET")
ZBOR_BANK_IBAN = env_str("ZBOR_BANK_IBAN")
ZBOR_BANK_BIC = env_str("ZBOR_BANK_BIC")
ZBOR_BANK_ACCOUNT_NAME = env_str("ZBOR_BANK_ACCOUNT_NAME")
# The largest single donation, in major units of the campaign's currency.
ZBOR_MAX_DONATION = int(env_str("ZBOR_MAX_DONATION", "10000"))
# Abuse limits on the donate form, per hour (zbor/ratelimit.py). Per client: card payments
# started (what card-testing bots do) and bank pledges; per campaign: donations started by
# everyone (a business limit, ASVS 2.3.2). 0 turns a limit off.
ZBOR_CARD_STARTS_PER_CLIENT_HOUR = int(env_str("ZBOR_CARD_STARTS_PER_CLIENT_HOUR", "10"))
ZBOR_PLEDGES_PER_CLIENT_HOUR = int(env_str("ZBOR_PLEDGES_PER_CLIENT_HOUR", "20"))
ZBOR_DONATIONS_PER_CAMPAIGN_HOUR = int(env_str("ZBOR_DONATIONS_PER_CAMPAIGN_HOUR", "5000"))
# Asking for help (/apply/, zbor/site/apply_views.py; docs/applying.md, "Abuse controls"). Per
# hour: applications from one client with the proof of work (JavaScript on); without it (Tor
# Browser at "safest"), a stricter limit per client and one for everyone together; wrong case
# code or phrase on the status page per client; answers sent from the status page per client.
ZBOR_APPLICATIONS_PER_CLIENT_HOUR = int(env_str("ZBOR_APPLICATIONS_PER_CLIENT_HOUR", "5"))
ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_CLIENT_HOUR = int(env_str("ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_CLIENT_HOUR", "3"))
ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_HOUR = int(env_str("ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_HOUR", "60"))
ZBOR_CASE_STATUS_FAILURES_PER_CLIENT_HOUR = int(env_str("ZBOR_CASE_STATUS_FAILURES_PER_CLIENT_HOUR", "10"))
ZBOR_CASE_ANSWERS_PER_CLIENT_HOUR = int(env_str("ZBOR_CASE_ANSWERS_PER_CLIENT_HOUR", "20"))
# Seconds the status page stays signed in after the applicant's last page there.
ZBOR_CASE_STATUS_SECONDS = int(env_str("ZBOR_CASE_STATUS_SECONDS", "1800"))
# Sizes: one file (bytes), all documents of one case (bytes), documents and answers per case.
ZBOR_CASE_FILE_MAX_BYTES = int(env_str("ZBOR_CASE_FILE_MAX_BYTES", str(10 * 1024 * 1024)))
ZBOR_CASE_MAX_BYTES = int(env_str("ZBOR_CASE_MAX_BYTES", str(40 * 1024 * 1024)))
ZBOR_CASE_MAX_DOCUMENTS = int(env_str("ZBOR_CASE_MAX_DOCUMENTS", "20"))
ZBOR_CASE_MAX_MESSAGES = int(env_str("ZBOR_CASE_MAX_MESSAGES", "50"))
# The proof-of-work challenge before a card payment (zbor/challenge.py): the largest number a
# browser may have to try (half of it on average: about a second), and how long it stays valid.
ZBOR_CHALLENGE_MAX_NUMBER = int(env_str("ZBOR_CHALLENGE_MAX_NUMBER", "100000"))
ZBOR_CHALLENGE_SECONDS = int(env_str("ZBOR_CHALLENGE_SECONDS", "3600"))
# "Manage my monthly gift" (zbor/donations/monthly_links.py): seconds the emailed link works,
# and how many links may be asked for per hour from one client and for one address (the page
# answers the same either way; past the address's limit nothing more is sent).
ZBOR_MONTHLY_LINK_SECONDS = int(env_str("ZBOR_MONTHLY_LINK_SECONDS", "3600"))
ZBOR_MONTHLY_LINKS_PER_CLIENT_HOUR = int(env_str("ZBOR_MONTHLY_LINKS_PER_CLIENT_HOUR", "10"))
ZBOR_MONTHLY_LINKS_PER_ADDRESS_HOUR = int(env_str("ZBOR_MONTHLY_LINKS_PER_ADDRESS_HOUR", "3"))
# Casework (zbor/cases, docs/decisions/0016-sealed-applications.md). Seconds an unlock of the
# foundation key lasts at most (it also ends with the staff session, on sign-out and with the
# lock button); Argon2id limits (min | interactive | moderate | sensitive) for the caseworkers'
# passphrases that wrap the key (new copies; existing copies keep theirs) and for the applicants'
# secret phrases, checked on every visit of the status page.
ZBOR_CASE_UNLOCK_SECONDS = int(env_str("ZBOR_CASE_UNLOCK_SECONDS", str(8 * 60 * 60)))
ZBOR_CASEWORKER_KDF = env_str("ZBOR_CASEWORKER_KDF", "moderate")
ZBOR_CASE_PHRASE_KDF = env_str("ZBOR_CASE_PHRASE_KDF", "interactive")
# Days a declined, withdrawn or closed case keeps its content (answers, messages, notes,
# documents) after its last change; the daily task zbor.purge_old_cases then purges it.
ZBOR_CASE_RETENTION_DAYS = int(env_str("ZBOR_CASE_RETENTION_DAYS", "90"))
# Days an optional receipt email is kept for a donation that never completed.
ZBOR_EMAIL_RETENTION_DAYS = int(env_str("ZBOR_EMAIL_RETENTION_DAYS", "30"))
# A monthly gift whose first payment never came (a card checkout left, a standing order never set
# up) is stopped this many days after the form, and its email forgotten: two months, so a
# standing order set to begin next month has had its first transfer.
ZBOR_MONTHLY_PENDING_DAYS = int(env_str("ZBOR_MONTHLY_PENDING_DAYS", "62"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "no-reply@localhost")
# SMTP unless told otherwise; dev.py prints mail to the console (production refuses that: a
# receipt's To: header is the donor's address, and the console is the server's log).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20

# Private data (beneficiaries' identities, payout recipients, documents) is encrypted with these
# Fernet keys: the first encrypts, all decrypt. Required in production.
ZBOR_ENCRYPTION_KEYS = env_list("ZBOR_ENCRYPTION_KEYS", [])
# Where encrypted private files live: never under MEDIA_ROOT, never served by the web server.
ZBOR_PRIVATE_ROOT = Path(env_str("ZBOR_PRIVATE_ROOT", str(DATA_DIR / "private")))
# Staff sign-in: two-factor (TOTP) required, and failed attempts allowed per 15 minutes.
ZBOR_REQUIRE_2FA = env_bool("ZBOR_REQUIRE_2FA", True)
ZBOR_LOGIN_FAILURES_ALLOWED = int(env_str("ZBOR_LOGIN_FAILURES_ALLOWED", "5"))
# A django-otp device admin never shows a secret or QR code (none is on the site: zbor/accounts/
# admin.py): a stolen superuser session must not clone someone's phone.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Behind a reverse proxy: the request header with the client's address, e.g. HTTP_X_FORWARDED_FOR,
# read only on connections from ZBOR_TRUSTED_PROXIES (addresses or CIDR blocks), right to left,
# as nginx's realip module does (zbor/ratelimit.py: client_address).
ZBOR_CLIENT_IP_HEADER = env_str("ZBOR_CLIENT_IP_HEADER")
ZBOR_TRUSTED_PROXIES = env_list("ZBOR_TRUSTED_PROXIES", ["127.0.0.0/8", "::1/128"])

# Background tasks: huey (zbor/tasks.py), the worker `zbor run_huey`. Embedded: a SQLite queue next to the
# database; with REDIS_URL: Redis, one queue name per site sharing it (else workers swap sites' tasks).
HUEY = {
    "name": env_str("ZBOR_TASK_QUEUE", env_str("ZBOR_CACHE_PREFIX", "zbor")),
    # No result store: a failed task's error (which may name an email address) is not kept.
    "results": False,
    "immediate": env_bool("ZBOR_TASKS_IMMEDIATE", False),
    "utc": True,
    **(
        {"huey_class": "huey.RedisHuey", "connection": {"url": REDIS_URL}}
        if REDIS_URL
        else {"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "tasks.sqlite3")}
    ),
}
ZBOR_TASK_RETRY_DELAY = int(env_str("ZBOR_TASK_RETRY_DELAY", "60"))
# Days a receipt email is kept after the receipt was sent (so a donor can ask for it again);
# a daily task deletes it then.
ZBOR_RECEIPT_EMAIL_DAYS = int(env_str("ZBOR_RECEIPT_EMAIL_DAYS", "3"))
# Seconds a payment provider's event may stay received or failed before the stranded-event
# sweep handles it again and `zbor reconcile` reports it (zbor/donations/stranded.py).
ZBOR_STRANDED_EVENT_SECONDS = int(env_str("ZBOR_STRANDED_EVENT_SECONDS", "300"))
# Days a bank statement line may wait in the unmatched queue before `zbor reconcile` reports it.
ZBOR_UNMATCHED_LINE_DAYS = int(env_str("ZBOR_UNMATCHED_LINE_DAYS", "7"))
# Days a payout paid by bank transfer may wait for its statement line before `zbor reconcile`
# reports it (zbor/donations/bank_out.py).
ZBOR_PAYOUT_LINE_DAYS = int(env_str("ZBOR_PAYOUT_LINE_DAYS", "10"))
# Days of Stripe's paid invoices `zbor reconcile --stripe-monthly` compares with the monthly
# gifts' donations (zbor/donations/monthly_reconcile.py): more than a month, so that a monthly
# run sees every month once.
ZBOR_STRIPE_INVOICE_DAYS = int(env_str("ZBOR_STRIPE_INVOICE_DAYS", "40"))
# What a receipt says of the foundation (zbor/donations/receipts.py). Empty by default: a receipt
# then leaves the line out rather than print something false. The tax statement's wording differs
# per country, and Zbor keeps no donor's country: ZBOR_FOUNDATION_TAX_STATEMENTS maps the receipt's
# language ("pl" for donors who gave in Polish, …) or "default" to the sentence, in that language;
# ZBOR_FOUNDATION_TAX_STATEMENT sets the default from the environment.
ZBOR_FOUNDATION_LEGAL_NAME = env_str("ZBOR_FOUNDATION_LEGAL_NAME")
ZBOR_FOUNDATION_ADDRESS = env_str("ZBOR_FOUNDATION_ADDRESS")
ZBOR_FOUNDATION_REGISTRATION = env_str("ZBOR_FOUNDATION_REGISTRATION")
ZBOR_FOUNDATION_TAX_STATEMENTS: dict[str, str] = {"default": env_str("ZBOR_FOUNDATION_TAX_STATEMENT")}

# Cover images: larger uploads are refused, larger pictures are scaled down on upload.
ZBOR_MAX_IMAGE_BYTES = 8 * 1024 * 1024
ZBOR_MAX_IMAGE_SIDE = 2400
from .metrics import ZBOR_METRICS_DIR, ZBOR_METRICS_TOKEN  # noqa: E402,F401 - Metrics: config/settings/metrics.py
