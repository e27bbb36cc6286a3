"""Erasure end to end, over real HTTP: Aino signs in (twice, two browsers), syncs, consents to
demo-service, which reads; she erases her data on the erase page. Then:

- she is signed out of the wallet and of the provider, and lands on the "data erased" page; her
  other browser's session is gone too;
- demo-service, asking about its request, learns that her consent was withdrawn;
- a raw scan of both databases (every byte, free pages too) finds none of her values, nor her
  `sub`, her pairwise id or the blind indexes of her data; her internal id is left only in the
  access log's tombstone and the erasure marker; no ciphertext of hers opens under any key left;
- signing in again starts a new, empty wallet, and the page says so once.
"""

from __future__ import annotations

import re

import httpx
import pytest
from django.db import connections

from consent.models import CONSENT_CONTENTS, CONSENT_RECEIPT, Consent, ServiceSubject
from consent.selectors import citizen_hint_index
from sandbox.demo import AINO, AINO_YOUTH_CARD
from tests.consent.conftest import CITIZEN_DATA, CONSENT_REQUEST
from wallet import crypto, sealed
from wallet.keys import cipher_from_key
from wallet.models import (
    ACCESS_LOG_DETAILS,
    PROFILE_PAYLOAD,
    RECORD_PAYLOAD,
    AccessLogEntry,
    Citizen,
    CitizenKey,
    CitizenSession,
    DataRecord,
    Profile,
)
from wallet.sessions import SessionStore

from .test_login_and_read import ENGLISH, _browser_login, _csrf_from, _page_once_synced
from .test_no_plaintext_at_rest import _consent_and_read, _raw_database_bytes

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]


def _aino_values() -> set[str]:
    card = AINO_YOUTH_CARD
    values = {
        AINO.first_name,
        AINO.last_name,
        AINO.email,
        str(AINO.sub),
        card.membership_number,
        card.school_name,
        card.approver_first_name,
        card.approver_phone,
        card.approver_email,
    }
    return {v for v in values if len(v) >= 4}


def _sealed_values(citizen: Citizen) -> list[tuple[sealed.SealedField, object, bytes]]:
    """Every ciphertext of the citizen's: (field, row id, ciphertext)."""
    found: list[tuple[sealed.SealedField, object, bytes]] = []
    for profile in Profile.objects.filter(citizen=citizen):
        found.append((PROFILE_PAYLOAD, profile.pk, bytes(profile.payload)))
    for record in DataRecord.objects.filter(citizen=citizen):
        found.append((RECORD_PAYLOAD, record.pk, bytes(record.payload)))
    for consent in Consent.objects.filter(citizen=citizen):
        found.append((CONSENT_CONTENTS, consent.pk, bytes(consent.contents)))
        found.append((CONSENT_RECEIPT, consent.pk, bytes(consent.receipt)))
    for entry in AccessLogEntry.objects.filter(citizen=citizen):
        found.append((ACCESS_LOG_DETAILS, entry.seq, bytes(entry.details)))
    return found


def _opens_under_some_key(field: sealed.SealedField, row_id: object, ciphertext: bytes) -> bool:
    for key in CitizenKey.objects.all():
        try:
            field.open(cipher_from_key(key, generation=key.generation), row_id, ciphertext)
        except crypto.CryptoError:
            continue
        return True
    return False


def _tables_holding(needles: set[str]) -> set[str]:
    """The tables of either database with a row whose value contains one of `needles`."""
    holding = set()
    for alias in ("default", "keys"):
        connection = connections[alias]
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f'SELECT * FROM "{table}"')
                for row in cursor.fetchall():
                    text = " ".join(
                        bytes(v).hex() if isinstance(v, memoryview | bytes) else str(v) for v in row
                    ).lower()
                    if any(needle in text for needle in needles):
                        holding.add(table)
    return holding


def _erase_on_the_page(browser: httpx.Client, live_server) -> httpx.Response:
    page = browser.get(f"{live_server.url}/erase/")
    assert page.status_code == 200 and "cannot be undone" in page.text
    return browser.post(
        f"{live_server.url}/erase/",
        data={"confirm": "on", "csrfmiddlewaretoken": _csrf_from(page.text)},
        headers={"Referer": f"{live_server.url}/erase/"},
    )


def test_erased_on_the_page_services_told_nothing_left_at_rest_and_a_new_wallet_after(
    live_server, sandbox, browser_settings
):
    with (
        httpx.Client(headers=ENGLISH, follow_redirects=True, timeout=20) as browser,
        httpx.Client(headers=ENGLISH, follow_redirects=True, timeout=20) as other_browser,
    ):
        # given Aino signed in twice, synced, and consented to demo-service, which has read
        assert _browser_login(browser, live_server, "aino").status_code == 200
        page = _page_once_synced(browser, f"{live_server.url}/", AINO_YOUTH_CARD.membership_number)
        assert AINO_YOUTH_CARD.membership_number in page
        assert _browser_login(other_browser, live_server, "aino").status_code == 200
        _consent_and_read(
            live_server, sandbox, token=sandbox.password_token("aino")["access_token"]
        )
        citizen = Citizen.objects.get(subject=str(AINO.sub))
        assert CitizenSession.objects.filter(citizen_id=citizen.pk).count() == 2
        ciphertexts = _sealed_values(citizen)
        assert len(ciphertexts) >= 5 and _opens_under_some_key(*ciphertexts[0])
        consent = Consent.objects.get(citizen=citizen)
        pairwise = str(ServiceSubject.objects.get(citizen=citizen).pairwise_id)
        indexes = {
            Profile.objects.get(citizen=citizen).email_index,
            citizen_hint_index(issuer=citizen.issuer, subject=citizen.subject),
            *DataRecord.objects.filter(citizen=citizen).values_list("external_key", flat=True),
            *DataRecord.objects.filter(citizen=citizen).values_list("content_digest", flat=True),
        }

        # when she erases her data on the page
        erased = _erase_on_the_page(browser, live_server)

        # then she is signed out of the wallet and of the provider, on the "erased" page
        assert erased.status_code == 200 and str(erased.url) == f"{live_server.url}/erased/"
        assert "has been erased" in erased.text and "Sign out" not in erased.text
        hops = [str(r.url) for r in erased.history]
        assert any(
            h.startswith(f"{sandbox.issuer}/logout/") and "id_token_hint=" in h for h in hops
        )
        assert "/idp/login/" in str(browser.get(f"{live_server.url}/oidc/authenticate/").url)
        # and her other browser is signed out too
        assert "Sign out" not in other_browser.get(f"{live_server.url}/").text

    # demo-service learns that her consent was withdrawn
    service = sandbox.client_credentials_token("demo-service", "demo-service-secret")

    def ask(query: str, **variables: object) -> dict:
        return httpx.post(
            f"{live_server.url}/graphql/",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {service['access_token']}"},
            timeout=20,
        ).json()

    request = ask(
        "query($id: String!) { consentRequest(id: $id) { consentState citizenErasedAt } }",
        id=consent.request_id,
    )["data"]["consentRequest"]
    assert request["consentState"] == "WITHDRAWN" and request["citizenErasedAt"]
    read = ask(CITIZEN_DATA, id=pairwise)
    assert read["errors"][0]["extensions"]["code"] == "CONSENT_WITHDRAWN"
    assert (
        ask(CONSENT_REQUEST, id=consent.request_id)["data"]["consentRequest"]["citizenId"] is None
    )

    # a raw scan of both databases finds nothing of hers
    raw = _raw_database_bytes().lower()
    found = sorted(v for v in _aino_values() | {pairwise} if v.lower().encode() in raw)
    assert found == [], f"her values are still in the database: {found}"
    left = sorted(i for i in indexes if i.encode() in raw)
    assert left == [], "blind indexes of her data are still in the database"
    citizen_id = {str(citizen.pk), citizen.pk.hex}
    assert _tables_holding(citizen_id) == {"wallet_accesslogtombstone", "wallet_erasure"}
    assert not CitizenKey.objects.filter(citizen_id=citizen.pk).exists()
    assert not any(_opens_under_some_key(*value) for value in ciphertexts)
    for session in CitizenSession.objects.all():
        decoded = str(SessionStore().decode(session.session_data)).lower()
        assert session.citizen_id != citizen.pk and AINO.email.lower() not in decoded

    # signing in again starts a new, empty wallet, and the page says so once
    with httpx.Client(headers=ENGLISH, follow_redirects=True, timeout=20) as browser:
        landed = _browser_login(browser, live_server, "aino")
        assert landed.status_code == 200
        assert re.search(
            r"Your earlier wallet was erased on [^.<]+\. This is a new, empty wallet", landed.text
        )
        assert "Your earlier wallet was erased" not in browser.get(f"{live_server.url}/").text
    new = Citizen.objects.get(subject=str(AINO.sub))
    assert new.pk != citizen.pk and new.previous_wallet_erased_at is not None
    assert not Consent.objects.filter(citizen=new).exists()
