"""Settings of the sandbox project (the city's systems as seen from the wallet).

Everything comes from the environment (and ``var/dev.env`` when present). The sandbox has its
own database, cookies and signing key so it never shares state with the wallet on :8000.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from sandbox.faults import FaultSpecError, parse_faults
from sandbox.keys import KEY_FILE_NAME, load_or_create_private_key
from sandbox.traffic import LatencyError, parse_latency

REPO_ROOT = Path(__file__).resolve().parent.parent

env = environ.Env()
ENV_FILE = Path(env.str("SANDBOX_ENV_FILE", default=str(REPO_ROOT / "var" / "dev.env")))
if ENV_FILE.is_file():
    env.read_env(str(ENV_FILE), overwrite=False)

VAR_DIR = Path(env.str("SANDBOX_VAR_DIR", default=str(REPO_ROOT / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

BASE_URL = env.str("SANDBOX_BASE_URL", default="http://127.0.0.1:8100").rstrip("/")
ISSUER = f"{BASE_URL}/idp"

# A random key per process is fine: sessions only need to survive one sandbox run.
SECRET_KEY = env.str("SANDBOX_SECRET_KEY", default="") or secrets.token_urlsafe(50)
DEBUG = env.bool("SANDBOX_DEBUG", default=True)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", urlsplit(BASE_URL).hostname or "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "sandbox.apps.SandboxConfig",
    "sandbox.idp.apps.IdpConfig",
    "sandbox.youth.apps.YouthConfig",
    "sandbox.berths.apps.BerthsConfig",
    "sandbox.library.apps.LibraryConfig",
]

MIDDLEWARE = [
    "sandbox.middleware.TrafficMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sandbox.middleware.FaultMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env.str("SANDBOX_DATABASE_PATH", default=str(VAR_DIR / "sandbox.sqlite3")),
        # Each server thread keeps its connection: opening one (and its PRAGMAs) per request
        # cost more than most answers.
        "CONN_MAX_AGE": None,
        # The dev server is threaded and benchmarks hit it concurrently: WAL lets readers run
        # beside a writer, IMMEDIATE takes the write lock up front (no upgrade deadlocks), and
        # a busy database is waited for instead of failing at once.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "sandbox_idp.User"
# Demo passwords are public ("demo"); full-strength PBKDF2 would only slow every token request
# of the tests and benchmarks. Never use this hasher outside the sandbox.
PASSWORD_HASHERS = ["sandbox.idp.hashers.SandboxPBKDF2PasswordHasher"]
LOGIN_URL = "/idp/login/"
LOGIN_REDIRECT_URL = "/idp/login/"

# Browsers do not separate cookies by port: keep clear of the wallet's cookies on :8000.
SESSION_COOKIE_NAME = "sandbox_sessionid"
CSRF_COOKIE_NAME = "sandbox_csrftoken"
SESSION_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "en"
TIME_ZONE = "Europe/Helsinki"
USE_I18N = False
USE_TZ = True

OIDC_PRIVATE_KEY = load_or_create_private_key(VAR_DIR / KEY_FILE_NAME)
ACCESS_TOKEN_SECONDS = env.int("SANDBOX_ACCESS_TOKEN_SECONDS", default=3600)
# Strict mode (SANDBOX_IDP_STRICT=1) behaves like a certified OpenID provider in its default
# configuration: access tokens carry only RFC 9068 claims (no names, email or `loa`), and the
# userinfo endpoint refuses JWT access tokens (401 invalid_token). ID tokens are unchanged. By
# default the provider behaves like the city's Keycloak, which is more generous with both.
IDP_STRICT = env.bool("SANDBOX_IDP_STRICT", default=False)

# Scope -> the audience (resource server) an access token asking for it is meant for.
SCOPE_AUDIENCES = {
    "wallet": "oma-helsinki-wallet",
    "youth": "youth-membership",
    "berths": "berth-reservations",
    # the wallet's GDPR API (sandbox.demo.GDPR_SCOPES)
    "omahelsinki.gdprquery": "oma-helsinki-wallet",
    "omahelsinki.gdprdelete": "oma-helsinki-wallet",
}

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OIDC_RSA_PRIVATE_KEY": OIDC_PRIVATE_KEY,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # Prompt only when the spec says the OP must (no or foreign id_token_hint).
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "PKCE_REQUIRED": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Name",
        "email": "Email address",
        "wallet": "Oma.Helsinki wallet",
        "youth": "Youth membership service",
        "berths": "Boat berth service",
        "omahelsinki.gdprquery": "Your data in the Oma.Helsinki wallet, for the city's profile",
        "omahelsinki.gdprdelete": "Deleting your data in the Oma.Helsinki wallet",
    },
    "DEFAULT_SCOPES": ["openid"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_SECONDS,
    # RFC 9068 JWTs, stored as the token itself (DOT keeps a SHA-256 checksum for look-ups).
    "ACCESS_TOKEN_GENERATOR": "sandbox.idp.tokens.access_token_generator",
    # oauthlib falls back to the access-token generator for refresh tokens: keep those opaque.
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
    "OAUTH2_VALIDATOR_CLASS": "sandbox.idp.validators.SandboxOAuth2Validator",
}

# The library's own OAuth2 endpoint hands out opaque tokens of this lifetime (Sierra: an hour).
LIBRARY_TOKEN_SECONDS = env.int("SANDBOX_LIBRARY_TOKEN_SECONDS", default=3600)
if LIBRARY_TOKEN_SECONDS < 1:
    raise ImproperlyConfigured("SANDBOX_LIBRARY_TOKEN_SECONDS must be at least 1")

# Faults of the upstream simulators (sandbox.faults): the spec active at start-up, and how long
# a "timeout" fault holds the answer back (bounded, so a forgotten fault cannot hang a thread).
try:
    FAULTS = parse_faults(env.str("SANDBOX_FAULTS", default=""))
except FaultSpecError as exc:
    raise ImproperlyConfigured(f"SANDBOX_FAULTS: {exc}") from None
FAULT_TIMEOUT_SECONDS = env.float("SANDBOX_FAULT_TIMEOUT_SECONDS", default=15.0)
if not 0 <= FAULT_TIMEOUT_SECONDS <= 120:
    raise ImproperlyConfigured("SANDBOX_FAULT_TIMEOUT_SECONDS must be between 0 and 120")

# How long every upstream answer is held back (sandbox.traffic), as a remote system's would be;
# switchable at run time through ``POST /_traffic/``.
try:
    LATENCY_MS = parse_latency(env.str("SANDBOX_LATENCY_MS", default="0"))
except LatencyError as exc:
    raise ImproperlyConfigured(f"SANDBOX_LATENCY_MS: {exc}") from None

# The simulators run only queries; graphene-django's debug middleware (on with DEBUG) would
# double the cost of resolving each field.
GRAPHENE = {"MIDDLEWARE": []}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # The password grant is sandbox-only by design; DOT logs a warning on every use.
        "oauth2_provider": {"level": "ERROR"},
    },
}
