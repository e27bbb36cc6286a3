"""Settings for the wallet: one module, values from the environment.

Integrations switch on by their URL being set: `DATABASE_URL` (PostgreSQL instead of the embedded
SQLite), `CELERY_BROKER_URL` (Celery workers instead of in-process tasks). Secrets can be given as
`NAME_FILE` paths. For local development `var/dev.env` (written by `scripts/devinit.py`) is read
when present; it never overrides a variable that is already set.

Composition root (with wallet.urls, wallet.schema, wallet.celery, wallet.wsgi): it names the apps
and their settings. The rest of `wallet` is the core and imports no app (pyproject.toml,
[tool.importlinter]).
"""

import os
import re
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from connectors import conf as connectors_conf

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


class _Env(environ.Env):
    """django-environ's reader, remembering every name the settings ask for: names in the
    environment that look like the wallet's and that nothing asked for are refused at the end
    of this module (a typo must not silently leave a default in force)."""

    names_read: set[str] = set()

    def get_value(self, var: str, *args: object, **kwargs: object) -> object:
        self.names_read.add(var)
        return super().get_value(var, *args, **kwargs)


env = _Env()
_env_file = Path(env.str("WALLET_ENV_FILE", default=str(VAR_DIR / "dev.env")))
if _env_file.is_file():
    environ.Env.read_env(_env_file, overwrite=False)


def _strict_bool(name: str, default: bool) -> bool:
    """django-environ reads any unknown word as False; a typo in a flag should stop start-up."""
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def _optional_secret(name: str) -> str:
    """NAME, or the contents of the file NAME_FILE names; both set is a mistake, not a choice."""
    file_path, value = env.str(f"{name}_FILE", default=""), env.str(name, default="")
    if file_path and value:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
    return Path(file_path).read_text().strip() if file_path else value


def _secret(name: str) -> str:
    """A required secret, from NAME or from the file named by NAME_FILE."""
    value = _optional_secret(name)
    if not value:
        raise ImproperlyConfigured(
            f"{name} (or {name}_FILE) is not set; for local development run `make venv`"
        )
    return value


def _secret_one_of(name: str, alias: str) -> str:
    """A required secret that may come under either of two names (each also as a _FILE); both
    set to different values is a mistake that stops start-up, not a silent choice."""
    value, alias_value = _optional_secret(name), _optional_secret(alias)
    if value and alias_value and value != alias_value:
        raise ImproperlyConfigured(f"{name} and {alias} are both set, to different values")
    if not (value or alias_value):
        raise ImproperlyConfigured(
            f"{name} (or {alias}, or either as _FILE) is not set; for local development run "
            "`make venv`"
        )
    return value or alias_value


DEBUG = _strict_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = _secret("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
WALLET_BASE_URL = env.str("WALLET_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mozilla_django_oidc",
    "graphene_django",
    "wallet",
    "connectors",
    "consent",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A citizen's data key is unwrapped at most once a request, and forgotten after it.
    "wallet.vault.key_scope_middleware",
    # A bearer-token call to the API goes from here straight to its view: the middleware below
    # serve browsers (wallet/bearer_api.py).
    "wallet.bearer_api.bearer_api_middleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A sign-in lasts as long as the provider's: when the ID token's time is up, the next page
    # asks the provider again without a prompt (prompt=none); a provider session that has ended
    # ends the wallet's (wallet.auth.oidc.CitizenCallbackView).
    "wallet.auth.oidc.SessionRefresh",
    # The page's language: the citizen's own choice, else the cookie or the browser's, else fi.
    "wallet.i18n.language_middleware",
    # Pages with personal data are never stored by the browser or a proxy.
    "wallet.i18n.no_store_for_signed_in_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "wallet.urls"
WSGI_APPLICATION = "wallet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The core's templates first: its admin/base_site.html (staff greeted by name) must win
        # over django.contrib.admin's, which comes earlier in INSTALLED_APPS.
        "DIRS": [BASE_DIR / "wallet" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wallet.context_processors.page",
            ],
        },
    },
]

# Two databases: "default" holds citizens and their sealed data; "keys" is the key store, which
# holds only the citizens' wrapped data keys. Keeping the wrapped keys out of the data database
# is what makes erasure reach backups: a dump of the data database taken before a citizen was
# erased cannot be opened once their key is gone from the key store (whose backups are kept
# short; see README, "Keys and erasure").
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'wallet.sqlite3'}"),
    "keys": env.db_url("KEYSTORE_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'keys.sqlite3'}"),
}
DATABASE_ROUTERS = ["wallet.db_router.KeyStoreRouter"]
# Connections are kept between requests (re-checked before reuse): opening two per request
# (data and key store) would cost more than a whole consented read.
_CONN_MAX_AGE = env.int("DATABASE_CONN_MAX_AGE", default=60)
# A health check is a `SELECT 1` on a kept connection before a request's first query on it.
# Without it, a connection broken while it sat unused (a database restart, a pooler's or a
# firewall's idle timeout) fails one request and is then replaced. A connection another request
# used moments ago is not checked again (wallet/db_health.py): under load that saves two round
# trips a request; 0 checks before every request, as Django does.
_CONN_HEALTH_CHECKS = _strict_bool("DATABASE_CONN_HEALTH_CHECKS", default=True)
DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE = env.float(
    "DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE", default=1.0
)
if DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE < 0:
    raise ImproperlyConfigured("DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE must be 0 or more seconds")
# PostgreSQL: server-side parameter binding, each statement prepared after its fifth run on a
# connection: PostgreSQL then plans the hot-path statements once, not every read (its CPU per
# consented read halves, docs/benchmarks.md). Off behind a pooler in transaction mode that
# cannot keep prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
_PREPARED_STATEMENTS = _strict_bool("DATABASE_PREPARED_STATEMENTS", default=True)
for _database in DATABASES.values():
    _database["ATOMIC_REQUESTS"] = False
    _database["CONN_MAX_AGE"] = _CONN_MAX_AGE
    _database["CONN_HEALTH_CHECKS"] = _CONN_HEALTH_CHECKS
    if _database["ENGINE"] == "django.db.backends.postgresql" and _PREPARED_STATEMENTS:
        _database.setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": 5}
        )
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the in-process sync write while pages are read; a busy timeout instead of
        # "database is locked" when two writers meet. secure_delete: a deleted row is zeroed,
        # so nothing of an erased citizen (their `sub`) lingers in free pages (docs/erasure.md).
        _database["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "wallet.Citizen"
AUTHENTICATION_BACKENDS = ["wallet.auth.oidc.CitizenOIDCBackend"]
LOGIN_URL = "oidc_authentication_init"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Finnish by default; a citizen's choice is remembered on their account (wallet.i18n).
LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", "Suomi"), ("sv", "Svenska"), ("en", "English")]
LANGUAGE_COOKIE_NAME = "wallet_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_HTTPONLY = True
# English dates as written in Finland (wallet/formats/en); Finnish and Swedish are Django's.
FORMAT_MODULE_PATH = ["wallet.formats"]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The Helsinki Design System's CSS, installed by `make assets` (npm) and served by the wallet
# itself: no CDN, so the CSP stays 'self'.
HDS_DIR = BASE_DIR / "node_modules" / "hds-core" / "lib"
STATICFILES_DIRS = [("hds", HDS_DIR)] if HDS_DIR.is_dir() else []

# --- Sessions, cookies and headers -------------------------------------------------------------
SESSION_ENGINE = "wallet.sessions"
SESSION_COOKIE_NAME = "wallet_sessionid"
CSRF_COOKIE_NAME = "wallet_csrftoken"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
_secure = _strict_bool("WALLET_SECURE_COOKIES", default=True) and not DEBUG
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
LANGUAGE_COOKIE_SECURE = _secure
# TLS usually ends at the load balancer, which redirects; set this where it does not.
SECURE_SSL_REDIRECT = _strict_bool("WALLET_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("WALLET_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = _strict_bool("WALLET_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
FORMS_URLFIELD_ASSUME_HTTPS = True  # the Django 6 default, now
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", env.str("OIDC_ISSUER", default="http://127.0.0.1:8100/idp")],
        "base-uri": ["'none'"],
    }
}

# --- Identity: the city's OpenID Connect provider ----------------------------------------------
# The endpoints default to the sandbox's (django-oauth-toolkit) paths under the issuer; each can be
# set on its own for a provider that lays them out differently (Keycloak does).
OIDC_ISSUER = env.str("OIDC_ISSUER", default="http://127.0.0.1:8100/idp").rstrip("/")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str(
    "OIDC_OP_AUTHORIZATION_ENDPOINT", default=f"{OIDC_ISSUER}/authorize/"
)
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default=f"{OIDC_ISSUER}/token/")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default=f"{OIDC_ISSUER}/userinfo/")
OIDC_OP_JWKS_ENDPOINT = env.str(
    "OIDC_OP_JWKS_ENDPOINT", default=f"{OIDC_ISSUER}/.well-known/jwks.json"
)
OIDC_OP_END_SESSION_ENDPOINT = env.str(
    "OIDC_OP_END_SESSION_ENDPOINT", default=f"{OIDC_ISSUER}/logout/"
)
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="oma-wallet-web")
# Also read under mozilla-django-oidc's own name, OIDC_RP_CLIENT_SECRET.
OIDC_RP_CLIENT_SECRET = _secret_one_of("WALLET_OIDC_CLIENT_SECRET", "OIDC_RP_CLIENT_SECRET")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid profile email")
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=5.0)
OIDC_STORE_ID_TOKEN = True
# How often a browser sign-in is checked with the provider (silently, prompt=none).
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", default=15 * 60)
# Never redirected to the provider: the API (bearer tokens or XHR), scripts' JSON, public keys.
# The GDPR API (a pattern: its URL names a profile) answers to bearer tokens alone.
OIDC_EXEMPT_URLS = [
    "graphql",
    "refresh-status",
    "jwks",
    "language-set",
    re.compile(r"^/gdpr-api/"),
]
# Where a citizen's claims (names, email) come from: "userinfo" asks the provider's userinfo
# endpoint (at login, and once for a citizen first seen through the API) and falls back to the
# tokens' own claims when it refuses the access token; "token" never asks it (the verified ID
# token at login, the access token's claims for the API). See wallet.auth.userinfo.
OIDC_CLAIMS_SOURCE = env.str("OIDC_CLAIMS_SOURCE", default="userinfo").strip().lower()
if OIDC_CLAIMS_SOURCE not in ("userinfo", "token"):
    raise ImproperlyConfigured(
        f"OIDC_CLAIMS_SOURCE must be 'userinfo' or 'token', got {OIDC_CLAIMS_SOURCE!r}"
    )
OIDC_OP_LOGOUT_URL_METHOD = "wallet.auth.oidc.provider_logout_url"
OIDC_CALLBACK_CLASS = "wallet.auth.oidc.CitizenCallbackView"

# Bearer access tokens for the API (RFC 9068 JWTs), validated locally against the issuer's JWKS.
WALLET_API_AUDIENCE = env.str("WALLET_API_AUDIENCE", default="oma-helsinki-wallet")
WALLET_API_SCOPE = env.str("WALLET_API_SCOPE", default="wallet")
WALLET_API_TOKEN_ALGORITHMS = env.list("WALLET_API_TOKEN_ALGORITHMS", default=["RS256"])
WALLET_API_REQUIRE_AT_JWT_TYP = _strict_bool("WALLET_API_REQUIRE_AT_JWT_TYP", default=True)
# Client ids whose bearer tokens may act for citizens (the wallet's own apps); a client that is
# neither listed nor a registered service is refused. Empty lets no client act for citizens, which
# only a development set-up may do (check wallet.W002 says so); `scripts/devinit.py` lists the
# sandbox's command-line client.
WALLET_CITIZEN_CLIENT_IDS = [
    client_id.strip()
    for client_id in env.list("WALLET_CITIZEN_CLIENT_IDS", default=[])
    if client_id.strip()
]
if not DEBUG and not WALLET_CITIZEN_CLIENT_IDS:
    raise ImproperlyConfigured(
        "WALLET_CITIZEN_CLIENT_IDS is not set: list the client ids of the wallet's own apps, whose "
        "bearer tokens act for citizens"
    )
WALLET_JWKS_CACHE_SECONDS = env.int("WALLET_JWKS_CACHE_SECONDS", default=300)
WALLET_JWKS_REFRESH_COOLDOWN_SECONDS = env.float(
    "WALLET_JWKS_REFRESH_COOLDOWN_SECONDS", default=30.0
)
# The city's GDPR API (wallet.gdpr_api): the Helsinki profile service asks for or deletes a
# citizen's data with the citizen's own token from this issuer, for this audience, carrying the
# query or the delete scope, as in the city's other services (GDPR_API_QUERY_SCOPE and
# GDPR_API_DELETE_SCOPE of helsinki-profile-gdpr-api). Blank issuer, JWKS and audience: the
# sign-in provider's (OIDC_ISSUER, OIDC_OP_JWKS_ENDPOINT) and the API's (WALLET_API_AUDIENCE).
GDPR_API_ISSUER = env.str("GDPR_API_ISSUER", default="").rstrip("/")
GDPR_API_JWKS_ENDPOINT = env.str("GDPR_API_JWKS_ENDPOINT", default="")
GDPR_API_AUDIENCE = env.str("GDPR_API_AUDIENCE", default="")
GDPR_API_QUERY_SCOPE = env.str("GDPR_API_QUERY_SCOPE", default="omahelsinki.gdprquery")
GDPR_API_DELETE_SCOPE = env.str("GDPR_API_DELETE_SCOPE", default="omahelsinki.gdprdelete")
WALLET_TOKEN_LEEWAY_SECONDS = env.int("WALLET_TOKEN_LEEWAY_SECONDS", default=30)
# The longest lifetime (exp - iat) accepted in an access token or an ID token.
WALLET_TOKEN_MAX_LIFETIME_SECONDS = env.int("WALLET_TOKEN_MAX_LIFETIME_SECONDS", default=86400)

# --- Encryption at rest -------------------------------------------------------------------------
# Key-encryption keys as "version:base64url(32 bytes)" entries; the highest version wraps new data
# keys, every configured version unwraps. The blind-index key is separate from all of them.
WALLET_KEK_PROVIDER = env.str("WALLET_KEK_PROVIDER", default="wallet.crypto.SettingsKekProvider")
WALLET_KEK_DIR = env.str("WALLET_KEK_DIR", default="")
WALLET_KEKS = _secret("WALLET_KEKS") if not WALLET_KEK_DIR else _optional_secret("WALLET_KEKS")
WALLET_INDEX_KEY = _secret("WALLET_INDEX_KEY")
# Keys `rotate_kek` re-wraps per batch: one SELECT and one UPDATE each, whatever the size.
WALLET_KEK_ROTATION_BATCH_SIZE = env.int("WALLET_KEK_ROTATION_BATCH_SIZE", default=1000)
if WALLET_KEK_ROTATION_BATCH_SIZE < 1:
    raise ImproperlyConfigured("WALLET_KEK_ROTATION_BATCH_SIZE must be a positive number")

# --- Erasure -----------------------------------------------------------------------------------
# How long a completed erasure's marker (a blind index of the erased (issuer, sub), no personal
# data) is kept: tokens issued before the erasure are refused while it lasts, and a new sign-in is
# told its wallet is new. It must outlive every token (check wallet.E005): a token lives at most
# WALLET_TOKEN_MAX_LIFETIME_SECONDS. docs/erasure.md
WALLET_ERASURE_MARKER_DAYS = env.int("WALLET_ERASURE_MARKER_DAYS", default=30)

# --- Receipt signing ----------------------------------------------------------------------------
# The wallet's own JWS key for consent receipts: a PEM private key, EC P-256 (ES256) or RSA
# (RS256). Retired keys' PEM public keys (concatenated, in one file) stay published at
# /.well-known/jwks.json so older receipts keep verifying. Missing or bad: check wallet.E004.
try:
    WALLET_SIGNING_KEY = _optional_secret("WALLET_SIGNING_KEY")
except (OSError, UnicodeDecodeError):  # an unreadable _FILE: reported by wallet.E004 too
    WALLET_SIGNING_KEY = ""
WALLET_SIGNING_RETIRED_KEYS_FILE = env.str("WALLET_SIGNING_RETIRED_KEYS_FILE", default="")

# --- Connectors ---------------------------------------------------------------------------------
# The connectors' client at the city's provider (the GraphQL services' tokens), and the transport
# every connector's calls go through: timeouts, retries, the circuit breaker.
CONNECTOR_TOKEN_ENDPOINT = env.str("CONNECTOR_TOKEN_ENDPOINT", default=OIDC_OP_TOKEN_ENDPOINT)
CONNECTOR_CLIENT_ID = env.str("CONNECTOR_CLIENT_ID", default="oma-wallet-connector")
CONNECTOR_CLIENT_SECRET = _secret("WALLET_CONNECTOR_CLIENT_SECRET")
CONNECTOR_CONNECT_TIMEOUT = env.float("CONNECTOR_CONNECT_TIMEOUT", default=3.0)
CONNECTOR_READ_TIMEOUT = env.float("CONNECTOR_READ_TIMEOUT", default=10.0)
CONNECTOR_MAX_ATTEMPTS = env.int("CONNECTOR_MAX_ATTEMPTS", default=3)
CONNECTOR_BACKOFF_BASE_SECONDS = env.float("CONNECTOR_BACKOFF_BASE_SECONDS", default=0.5)
CONNECTOR_BREAKER_THRESHOLD = env.int("CONNECTOR_BREAKER_THRESHOLD", default=5)
CONNECTOR_BREAKER_COOLDOWN_SECONDS = env.float("CONNECTOR_BREAKER_COOLDOWN_SECONDS", default=30.0)


def _connector_env(name: str, kind: type, secret: bool, default: object) -> object:
    """One connector setting's environment variable, read like every other setting here."""
    if secret:
        return _optional_secret(name) or default
    if kind is bool:
        return _strict_bool(name, default=bool(default))
    if kind in (int, float):
        raw = env.str(name, default="").strip()
        try:
            return kind(raw) if raw else default
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    return env.str(name, default=default)


# The sources, one entry each: the connector package, and its own settings, which the package
# declares (keys, types, defaults, secrets, environment variables; connectors/conf.py). Adding a
# source is adding its package and one line here. Checked at start-up (connectors.checks).
CONNECTORS = {
    "youth": connectors_conf.entry_from_env("connectors.youth", _connector_env),
    "berths": connectors_conf.entry_from_env("connectors.berths", _connector_env),
    "library": connectors_conf.entry_from_env("connectors.library", _connector_env),
}
# Sweeps: citizens per task, and how long a running sweep may go without a heartbeat before
# the next one treats its worker as lost.
SYNC_CHUNK_SIZE = env.int("SYNC_CHUNK_SIZE", default=200)
SYNC_STALE_SECONDS = env.int("SYNC_STALE_SECONDS", default=600)
SYNC_QUEUE = env.str("SYNC_QUEUE", default="celery")  # the Celery queue sweep chunks go to
# Admins: staff status comes from this role in this claim of the provider's tokens.
WALLET_ADMIN_ROLE_CLAIM = env.str("WALLET_ADMIN_ROLE_CLAIM", default="roles")
WALLET_ADMIN_ROLE = env.str("WALLET_ADMIN_ROLE", default="wallet-admin")

# The consent app's settings, in one entry (checked at start-up by consent/checks.py): how long a
# service's request waits for the citizen, the longest consent a service may ask for, the
# jurisdiction named in receipts, how long a process remembers which client ids are registered
# services, and the open (undecided) requests a service may have for one hinted citizen and in all.
CONSENT = {
    "REQUEST_TTL_HOURS": env.int("WALLET_CONSENT_REQUEST_TTL_HOURS", default=72),
    "MAX_DAYS": env.int("WALLET_CONSENT_MAX_DAYS", default=730),
    "JURISDICTION": env.str("WALLET_CONSENT_JURISDICTION", default="FI"),
    "SERVICE_CACHE_SECONDS": env.float("WALLET_SERVICE_CACHE_SECONDS", default=10.0),
    "MAX_PENDING_PER_CITIZEN": env.int("WALLET_CONSENT_MAX_PENDING_PER_CITIZEN", default=5),
    "MAX_PENDING_PER_SERVICE": env.int("WALLET_CONSENT_MAX_PENDING_PER_SERVICE", default=10_000),
}
# The longest an access-log append (every consented read) waits for a lock on the citizen's log
# (PostgreSQL's lock_timeout while it waits): past it, the read fails with a clear error.
WALLET_ACCESS_LOG_LOCK_TIMEOUT = env.float("WALLET_ACCESS_LOG_LOCK_TIMEOUT", default=10.0)
if WALLET_ACCESS_LOG_LOCK_TIMEOUT <= 0:
    raise ImproperlyConfigured("WALLET_ACCESS_LOG_LOCK_TIMEOUT must be more than 0 seconds")

# --- Record of processing -----------------------------------------------------------------------
# The wallet's own controller, as the record of processing (/processing/) names it: in Finnish,
# Swedish and English, with how to reach them and the wallet's privacy policy.
WALLET_CONTROLLER = {
    "NAME_FI": env.str(
        "WALLET_CONTROLLER_NAME_FI",
        default="Helsingin kaupunki, kulttuurin ja vapaa-ajan toimiala",
    ),
    "NAME_SV": env.str(
        "WALLET_CONTROLLER_NAME_SV", default="Helsingfors stad, kultur- och fritidssektorn"
    ),
    "NAME_EN": env.str(
        "WALLET_CONTROLLER_NAME_EN", default="City of Helsinki, Culture and Leisure Division"
    ),
    "CONTACT": env.str("WALLET_CONTROLLER_CONTACT", default=""),
    "PRIVACY_POLICY_URL": env.str("WALLET_PRIVACY_POLICY_URL", default=""),
}
if not all(WALLET_CONTROLLER[f"NAME_{code}"].strip() for code in ("FI", "SV", "EN")):
    raise ImproperlyConfigured(
        "WALLET_CONTROLLER_NAME_FI, WALLET_CONTROLLER_NAME_SV and WALLET_CONTROLLER_NAME_EN "
        "must not be empty"
    )

# --- Celery -------------------------------------------------------------------------------------
# Without a broker, tasks run in-process (eagerly) so the embedded default needs no other service.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"  # never used while eager; stops kombu guessing at localhost
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# `make beat`: every minute, start the incremental sweeps whose interval (admin) has passed;
# every ten minutes, record consent expiries (reads enforce them on their own) and close requests
# nobody decided.
CELERY_BEAT_SCHEDULE = {
    "scheduled-sweeps": {"task": "connectors.scheduled_sweeps", "schedule": 60.0},
    "consent-expiry": {"task": "consent.expire", "schedule": 600.0},
}
# Retention: once a day at this hour (the wallet's TIME_ZONE), delete the records that ended
# upstream longer ago than their source keeps them (each source's RETENTION_DAYS). Without a
# broker, run `manage.py purge_expired_records` daily instead (cron).
WALLET_RETENTION_PURGE_HOUR = env.int("WALLET_RETENTION_PURGE_HOUR", default=3)
if not 0 <= WALLET_RETENTION_PURGE_HOUR <= 23:
    raise ImproperlyConfigured("WALLET_RETENTION_PURGE_HOUR must be an hour from 0 to 23")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE["retention-purge"] = {
    "task": "connectors.retention_purge",
    "schedule": crontab(minute=17, hour=WALLET_RETENTION_PURGE_HOUR),
}
# Every ten minutes, finish the erasures that stopped after their commit point (docs/erasure.md).
CELERY_BEAT_SCHEDULE["erasures-complete"] = {"task": "wallet.erasures_complete", "schedule": 600.0}

# --- GraphQL ------------------------------------------------------------------------------------
GRAPHENE = {
    "SCHEMA": "wallet.schema.schema",
    "SCHEMA_OUTPUT": "schema.graphql",
    "SCHEMA_INDENT": 2,
    "RELAY_CONNECTION_MAX_LIMIT": 100,
}
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", default=10)
# Limits per operation, each refused with a 400 and a stable code (wallet/graphql/limits.py):
# aliased fields; cost (fields, times page sizes, times GRAPHQL_LIST_COST for an unpaged list);
# service reads of citizen data, each of which the citizen's access log records.
GRAPHQL_MAX_ALIASES = env.int("GRAPHQL_MAX_ALIASES", default=20)
GRAPHQL_MAX_COST = env.int("GRAPHQL_MAX_COST", default=20_000)
GRAPHQL_LIST_COST = env.int("GRAPHQL_LIST_COST", default=20)
GRAPHQL_MAX_LOGGED_READS = env.int("GRAPHQL_MAX_LOGGED_READS", default=1)
# Fields merged into one selection set, fragments included (graphql-core's merge check is
# quadratic in it).
GRAPHQL_MAX_SELECTIONS = env.int("GRAPHQL_MAX_SELECTIONS", default=50)
# Validated documents kept per process: at most this many, and this many MiB (estimated); callers
# without credentials get at most this share of both.
GRAPHQL_DOCUMENT_CACHE_ENTRIES = env.int("GRAPHQL_DOCUMENT_CACHE_ENTRIES", default=512)
GRAPHQL_DOCUMENT_CACHE_MB = env.int("GRAPHQL_DOCUMENT_CACHE_MB", default=32)
GRAPHQL_DOCUMENT_CACHE_ANONYMOUS_SHARE = env.float(
    "GRAPHQL_DOCUMENT_CACHE_ANONYMOUS_SHARE", default=0.1
)

# --- Error reports ------------------------------------------------------------------------------
# The DEBUG error page and error e-mails hide secrets by name and by value (keys, client secrets,
# passwords, URLs with credentials), also in request.META and local variables.
DEFAULT_EXCEPTION_REPORTER_FILTER = "wallet.error_reports.SecretsHiddenFilter"
DEFAULT_EXCEPTION_REPORTER = "wallet.error_reports.SecretsHiddenReporter"

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "wallet.logging.RedactPersonalData"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env.str("WALLET_LOG_LEVEL", default="INFO")},
    "loggers": {
        # request bodies and token-endpoint errors may carry personal data or secrets
        "mozilla_django_oidc": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},  # one line per task is noise at sweep scale
    },
}

# --- Names nobody reads -------------------------------------------------------------------------
# Every setting above is read unconditionally, so `env.names_read` is the whole list; a name in
# the environment with one of these prefixes that is not on it is a typo or a retired setting.
_OWN_PREFIXES = ("WALLET_", "CONNECTOR_", "OIDC_")
_unknown = sorted(n for n in os.environ if n.startswith(_OWN_PREFIXES) and n not in env.names_read)
if _unknown:
    _known = sorted(n for n in env.names_read if n.startswith(_OWN_PREFIXES))
    raise ImproperlyConfigured(
        f"Unknown setting(s) in the environment: {', '.join(_unknown)}. Known: {', '.join(_known)}"
    )
