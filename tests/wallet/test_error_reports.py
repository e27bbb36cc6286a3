"""The DEBUG error page (`make run`) shows no secret: not in settings, request.META, POST, GET,
local variables or the exception's message, whatever name the secret sits under."""

from __future__ import annotations

import base64
import html
import os
import sys
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.views.debug import (
    ExceptionReporter,
    SafeExceptionReporterFilter,
    technical_500_response,
)
from django.views.decorators.debug import sensitive_variables

from tests.connector_settings import connector_settings
from wallet.error_reports import SUBSTITUTE, SecretsHiddenFilter


def _key() -> tuple[str, bytes]:
    raw = os.urandom(32)
    return base64.urlsafe_b64encode(raw).decode().rstrip("="), raw


KEK_1, KEK_1_RAW = _key()
KEK_2, KEK_2_RAW = _key()
INDEX_KEY, INDEX_KEY_RAW = _key()
SIGNING_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode()
)
# what the page's META gets from the process environment under runserver
ENVIRONMENT_KEKS = f"1:{_key()[0]}"
DATABASE_PASSWORD = "hunter2pass"
DATABASE_URL = f"postgres://u:{DATABASE_PASSWORD}@h/db"
CLIENT_SECRETS = {
    "SECRET_KEY": "django-secret-" + os.urandom(16).hex(),
    "OIDC_RP_CLIENT_SECRET": "oidc-secret-" + os.urandom(16).hex(),
    "CONNECTOR_CLIENT_SECRET": "connector-secret-" + os.urandom(16).hex(),
}
LIBRARY_CLIENT_SECRET = "library-secret-" + os.urandom(16).hex()  # the library's own setting


def _signing_key_body() -> list[str]:
    return [line for line in SIGNING_KEY.splitlines() if not line.startswith("-----")]


SECRETS = [
    KEK_1,
    KEK_2,
    KEK_1_RAW.hex(),
    repr(KEK_1_RAW)[2:-1],
    INDEX_KEY,
    INDEX_KEY_RAW.hex(),
    ENVIRONMENT_KEKS.partition(":")[2],
    DATABASE_PASSWORD,
    *CLIENT_SECRETS.values(),
    LIBRARY_CLIENT_SECRET,
    *_signing_key_body(),
]


@pytest.fixture
def secrets_configured(settings, monkeypatch):
    settings.DEBUG = True
    settings.WALLET_KEKS = f"1:{KEK_1},2:{KEK_2}"
    settings.WALLET_INDEX_KEY = INDEX_KEY
    settings.WALLET_SIGNING_KEY = SIGNING_KEY
    for name, value in CLIENT_SECRETS.items():
        setattr(settings, name, value)
    connector_settings(settings, "library", CLIENT_SECRET=LIBRARY_CLIENT_SECRET)
    # PASSWORD is hidden by name; the value must not show anywhere else either
    monkeypatch.setitem(settings.DATABASES["default"], "PASSWORD", DATABASE_PASSWORD)


@dataclass
class SyncJob:  # an object whose repr carries a URL with credentials
    target: str


def _fail_holding_secrets(request: HttpRequest) -> HttpResponse:
    """Locals with innocent names holding secrets, as a crash deep in the code would have."""
    value = KEK_1  # noqa: F841 - shown on the page, which is the point
    blob = KEK_1_RAW  # noqa: F841
    parts = {"note": INDEX_KEY, "more": [CLIENT_SECRETS["CONNECTOR_CLIENT_SECRET"]]}  # noqa: F841
    job = SyncJob(target=DATABASE_URL)  # noqa: F841
    pem = SIGNING_KEY  # noqa: F841
    raise RuntimeError("sync failed")


def _fail_with_secret_in_message(request: HttpRequest) -> HttpResponse:
    try:
        raise ValueError(f"cannot unwrap with {KEK_2}")
    except ValueError as exc:
        raise ConnectionError(f"cannot reach {DATABASE_URL}") from exc


urlpatterns = [
    path("boom/", _fail_holding_secrets),
    path("boom-message/", _fail_with_secret_in_message),
]


def _assert_hides_secrets(page: str) -> None:
    for text in (page, html.unescape(page)):
        shown = [secret for secret in SECRETS if secret in text]
        assert not shown, f"the error page shows {len(shown)} secret(s)"


def _page_for_exception_in(view, request: HttpRequest) -> HttpResponse:
    try:
        view(request)
    except Exception:
        return technical_500_response(request, *sys.exc_info())
    raise AssertionError("the view did not raise")


def _meta() -> dict[str, str]:
    return {"WALLET_KEKS": ENVIRONMENT_KEKS, "DATABASE_URL": DATABASE_URL}


@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
def test_technical_500_page_shows_no_secret(rf, secrets_configured, accept):
    request = rf.post(
        "/boom/",
        {"comment": KEK_2, "password": "pw-" + KEK_2, "link": DATABASE_URL},
        HTTP_ACCEPT=accept,
        **_meta(),
    )

    response = _page_for_exception_in(_fail_holding_secrets, request)

    page = response.content.decode()
    assert response["Content-Type"].startswith(accept)
    _assert_hides_secrets(page)
    # still a useful page: the exception, the locals' names, the harmless parts of values
    assert "RuntimeError" in page and "sync failed" in page
    assert "_fail_holding_secrets" in page
    assert f"postgres://u:{SUBSTITUTE}@h/db" in html.unescape(page)  # in META
    if accept == "text/html":  # only the HTML page lists the frames' local variables
        assert "SyncJob(target=" in html.unescape(page)


@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
@pytest.mark.urls(__name__)
def test_debug_500_response_through_the_stack_shows_no_secret(secrets_configured, accept):
    client = Client(raise_request_exception=False)

    responses = [
        client.get("/boom/", {"q": DATABASE_URL}, HTTP_ACCEPT=accept, **_meta()),
        client.post("/boom/", {"note": KEK_1}, HTTP_ACCEPT=accept, **_meta()),
        client.get("/boom-message/", HTTP_ACCEPT=accept, **_meta()),
    ]

    for response in responses:
        assert response.status_code == 500
        page = response.content.decode()
        _assert_hides_secrets(page)
        assert "Traceback" in page
    assert "RuntimeError" in responses[0].content.decode()
    message_page = html.unescape(responses[2].content.decode())
    assert "ConnectionError" in message_page and "cannot reach postgres://u:" in message_page
    assert "cannot unwrap with" in message_page  # the chained cause, its key taken out


def test_django_default_filter_would_show_them(rf, secrets_configured):
    """The page above is safe because of our classes: Django's own shows the secrets."""
    request = rf.get("/boom/", **_meta())
    request.exception_reporter_filter = SafeExceptionReporterFilter()
    try:
        _fail_holding_secrets(request)
    except RuntimeError:
        page = html.unescape(ExceptionReporter(request, *sys.exc_info()).get_traceback_html())
    assert KEK_1 in page and DATABASE_PASSWORD in page and ENVIRONMENT_KEKS in page


def _frame_variables(view, request) -> dict[str, str]:
    try:
        view(request)
    except Exception:
        data = ExceptionReporter(request, *sys.exc_info()).get_traceback_data()
    return dict(data["frames"][-1]["vars"])


def _fail_with_named_secrets(request: HttpRequest) -> HttpResponse:
    pin = "1234"  # noqa: F841
    kek_spec = "v1"  # noqa: F841
    credentials = {"user": "u", "password": "pw"}  # noqa: F841
    session = "abc"  # noqa: F841
    shipping = "by post"  # noqa: F841
    loop: dict[str, object] = {"token": "abc"}
    loop["self"] = loop
    raise RuntimeError("boom")


def test_secret_names_hide_their_values_and_other_names_do_not(rf, secrets_configured):
    shown = _frame_variables(_fail_with_named_secrets, rf.get("/"))

    starred = repr(SUBSTITUTE)
    assert shown["pin"] == shown["kek_spec"] == shown["credentials"] == starred
    assert shown["session"] == starred
    assert shown["shipping"] == repr("by post")
    assert SUBSTITUTE in shown["loop"] and "abc" not in shown["loop"]  # a cycle still renders


@sensitive_variables("note")
def _fail_with_declared_sensitive_variable(request: HttpRequest) -> HttpResponse:
    note = "declared sensitive"  # noqa: F841
    raise RuntimeError("boom")


def test_sensitive_variables_are_honoured_under_debug_too(rf, secrets_configured):
    shown = _frame_variables(_fail_with_declared_sensitive_variable, rf.get("/"))

    assert shown["note"] == repr(SUBSTITUTE)


def _fail_holding(value: str) -> None:
    raise RuntimeError("boom")


def test_keys_from_a_kek_directory_and_secrets_from_the_environment_are_hidden(
    rf, secrets_configured, settings, tmp_path, monkeypatch
):
    directory_kek, _ = _key()
    (tmp_path / "kek-3").write_text(directory_kek + "\n")
    settings.WALLET_KEK_DIR = str(tmp_path)
    monkeypatch.setenv("PGPASSWORD", "pg-env-password")

    for secret in (directory_kek, "pg-env-password"):
        try:
            _fail_holding(secret)
        except RuntimeError:
            data = ExceptionReporter(rf.get("/"), *sys.exc_info()).get_traceback_data()
        shown = dict(data["frames"][-1]["vars"])
        assert secret not in shown["value"] and SUBSTITUTE in shown["value"]


def test_settings_and_meta_hide_by_name_and_value(rf, secrets_configured, settings):
    settings.CELERY_BROKER_URL = "redis://:brokerpass1@127.0.0.1:6379/0"
    reporter_filter = SecretsHiddenFilter()
    request = rf.get("/", HTTP_COOKIE="wallet_sessionid=abc", **_meta())

    safe_settings = reporter_filter.get_safe_settings()
    meta = reporter_filter.get_safe_request_meta(request)

    assert safe_settings["WALLET_KEKS"] == safe_settings["WALLET_INDEX_KEY"] == SUBSTITUTE
    assert safe_settings["DATABASES"]["default"]["PASSWORD"] == SUBSTITUTE
    assert safe_settings["CELERY_BROKER_URL"] == f"redis://:{SUBSTITUTE}@127.0.0.1:6379/0"
    assert "brokerpass1" not in repr(safe_settings)
    assert meta["WALLET_KEKS"] == meta["HTTP_COOKIE"] == SUBSTITUTE
    assert meta["DATABASE_URL"] == f"postgres://u:{SUBSTITUTE}@h/db"
    assert safe_settings["ROOT_URLCONF"] == settings.ROOT_URLCONF  # the rest stays readable


def test_short_or_empty_secret_values_do_not_blank_the_page(rf, secrets_configured, settings):
    connector_settings(settings, "library", CLIENT_SECRET="s", CLIENT_KEY="")
    request = rf.get("/", HTTP_ACCEPT="text/plain")

    page = _page_for_exception_in(_fail_holding_secrets, request).content.decode()

    assert "sync failed" in page and "RuntimeError" in page
    _assert_hides_secrets(page)
