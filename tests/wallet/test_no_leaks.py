"""Personal values and key material stay out of logs, admin pages and Celery messages."""

import logging
import sys

import pytest
from celery.signals import task_prerun

from connectors.tasks import citizen_sync_enqueue
from tests.factories import CitizenFactory
from wallet import services
from wallet.logging import RedactPersonalData
from wallet.services import UpstreamRecord

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhaW5vIn0.c2lnbmF0dXJl"


def _filtered(message: str, *args, exc_info=None) -> str:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, message, args, exc_info)
    assert RedactPersonalData().filter(record)
    return record.getMessage()


def test_log_filter_redacts_tokens_emails_and_secrets():
    text = _filtered(
        "user %s sent Bearer %s with client_secret=%s and password=hunter2",
        "aino.virtanen@example.com",
        JWT,
        "s3cr3t",
    )
    for secret in ("aino.virtanen@example.com", JWT, "s3cr3t", "hunter2"):
        assert secret not in text
    assert "[email]" in text and "client_secret=[redacted]" in text


def test_log_filter_keeps_the_traceback_but_not_the_exception_text():
    name, card = "".join(["Ai", "no"]), "".join(["00", "4213"])  # runtime values, not source
    try:
        raise ValueError(f"{name}'s card {card}")
    except ValueError:
        text = _filtered("sync failed", exc_info=sys.exc_info())
    assert "Traceback (message withheld)" in text and "ValueError" in text
    assert "004213" not in text and "Aino" not in text


def test_every_configured_log_handler_redacts():
    handlers = [h for h in logging.getLogger().handlers if type(h).__module__ == "logging"]
    assert handlers
    assert all(any(isinstance(f, RedactPersonalData) for f in h.filters) for h in handlers)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_celery_tasks_carry_ids_only(in_process_tasks):
    seen = []

    def record(sender=None, args=None, kwargs=None, **extra):
        seen.append((sender.name, tuple(args or ()), dict(kwargs or {})))

    task_prerun.connect(record)
    try:
        citizen = CitizenFactory()
        citizen_sync_enqueue(citizen_id=citizen.pk, reason="login")
    finally:
        task_prerun.disconnect(record)
    assert seen == [("connectors.citizen_sync", (str(citizen.pk), "login"), {})]


@pytest.mark.django_db(databases="__all__")
def test_admin_pages_show_no_personal_values(client):
    citizen = CitizenFactory()
    services.profile_update_from_claims(
        citizen=citizen,
        claims={"given_name": "Aino", "family_name": "Virtanen", "email": "aino@example.com"},
    )
    services.records_upsert(
        citizen=citizen,
        source="youth",
        records=[
            UpstreamRecord(
                kind="membership",
                external_id="x",
                payload={"membership_number": "004213", "status": "ACTIVE"},
            )
        ],
    )
    admin = CitizenFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    record = citizen.records.get()
    pages = [
        "/admin/wallet/citizen/",
        f"/admin/wallet/citizen/{citizen.pk}/change/",
        "/admin/wallet/datarecord/",
        f"/admin/wallet/datarecord/{record.pk}/change/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for value in ("Aino", "Virtanen", "aino@example.com", "004213"):
            assert value not in body, (url, value)
