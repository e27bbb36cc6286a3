"""After every demo citizen has logged in and synced, the raw database holds none of their
personal values: not in any column, not in session data, not in free pages.

The scan reads the database below the ORM: SQLite's serialized file image, or `pg_dump` output
plus every row read back with plain SQL on PostgreSQL.
"""

import shutil
import subprocess

import httpx
import pytest
from django.db import connections

from consent.demo import demo_services_seed
from sandbox.demo import AINO_YOUTH_CARD, DEMO_USERS
from tests.consent.conftest import (
    CITIZEN_DATA,
    CONSENT_REQUEST,
    DECIDE,
    REDIRECT_URIS,
    REQUEST_CONSENT,
)

from .test_login_and_read import _browser_login

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]

SYNC_AND_READ = "mutation { syncMyData { sources { status } } }"


def _personal_values() -> set[str]:
    values = set()
    for user in DEMO_USERS:
        values |= {user.first_name, user.last_name, user.email}
    card = AINO_YOUTH_CARD
    values |= {
        card.membership_number,
        card.school_name,
        card.approver_first_name,
        card.approver_phone,
        card.approver_email,
        *(p.email for p in card.additional_contact_persons),
        *(p.phone for p in card.additional_contact_persons),
    }
    return {v for v in values if len(v) >= 4}


def _raw_database_bytes() -> bytes:
    return b"\n".join(_raw_bytes(connections[alias]) for alias in ("default", "keys"))


def _raw_bytes(connection) -> bytes:
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        return connection.connection.serialize()
    chunks = []
    settings_dict = connection.settings_dict
    if shutil.which("pg_dump"):
        dump = subprocess.run(
            [
                "pg_dump",
                "-h",
                settings_dict["HOST"] or "127.0.0.1",
                "-p",
                str(settings_dict["PORT"] or 5432),
                "-U",
                settings_dict["USER"] or "postgres",
                "--data-only",
                settings_dict["NAME"],
            ],
            capture_output=True,
            check=True,
            timeout=60,
        )
        chunks.append(dump.stdout)
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    chunks.append(
                        bytes(value)
                        if isinstance(value, memoryview | bytes)
                        else str(value).encode()
                    )
    return b"\n".join(chunks)


def _consent_and_read(live_server, sandbox, *, token: str) -> None:
    """Aino consents to demo-service reading her email and card number; it reads them: a consent,
    its receipt (a JWS) and an access-log entry now exist."""
    demo_services_seed()
    service = sandbox.client_credentials_token("demo-service", "demo-service-secret")

    def call(query: str, bearer: str, **variables: object) -> dict:
        response = httpx.post(
            f"{live_server.url}/graphql/",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=20,
        )
        return dict(response.json()["data"])

    fields = ["profile.email", "youth.membership.membership_number"]
    asked = call(
        REQUEST_CONSENT,
        service["access_token"],
        fields=fields,
        purpose="membership-check",
        redirectUri=REDIRECT_URIS["demo-service"],
    )
    request_id = asked["requestConsent"]["request"]["id"]
    call(DECIDE, token, id=request_id, approve=True)
    outcome = call(CONSENT_REQUEST, service["access_token"], id=request_id)["consentRequest"]
    read = call(CITIZEN_DATA, service["access_token"], id=outcome["citizenId"])["citizenData"]
    assert sorted(read["grantedFields"]) == sorted(fields)


def test_raw_database_holds_no_plaintext_personal_value(live_server, sandbox, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    for user in DEMO_USERS:
        token = sandbox.password_token(user.username)["access_token"]
        response = httpx.post(
            f"{live_server.url}/graphql/",
            json={"query": SYNC_AND_READ},
            headers={"Authorization": f"Bearer {token}"},
            timeout=20,
        )
        assert response.json()["data"]["syncMyData"]["sources"][0]["status"] == "SUCCEEDED"
    _consent_and_read(live_server, sandbox, token=sandbox.password_token("aino")["access_token"])
    with httpx.Client(
        follow_redirects=True, timeout=20
    ) as browser:  # a session holding an ID token
        assert _browser_login(browser, live_server, "aino").status_code == 200

    raw = _raw_database_bytes()
    assert len(raw) > 10_000, "the scan read suspiciously little"
    lowered = raw.lower()
    found = sorted(v for v in _personal_values() if v.lower().encode() in lowered)
    assert found == [], f"plaintext personal values in the database: {found}"
    assert b"eyJ" not in raw, "a JWT (ID or access token) is stored readable"
