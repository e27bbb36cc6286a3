"""Issue 12's done-when, end to end over real HTTP: eero (a demo citizen of the sandbox) signs in
through the provider, links his library card, his sources sync, he grants demo-service-2 a
consent and the service reads under it. His export, downloaded from the page's link, validates
against the committed schema, holds his profile, berth lease, boat, library loans, the consent
with its receipt and the access log; scripts/verify_export.py verifies its signature and chain
against the JWKS the wallet publishes, and that a later export (by GraphQL) extends it.

Then he asks the city, in the Helsinki profile, to delete his data: the profile service calls the
wallet's GDPR API with his token. Afterwards a raw scan of both databases finds nothing of his,
the GDPR API has nothing to give, and demo-service-2 learns that his consent was withdrawn."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import urlparse

import httpx
import pytest

from sandbox.demo import (
    EERO,
    EERO_BOAT,
    EERO_LEASE,
    EERO_LIBRARY,
    GDPR_DELETE_SCOPE,
    GDPR_QUERY_SCOPE,
    HELSINKI_PROFILE_CLIENT_ID,
)
from tests.consent.conftest import (  # noqa: F401 (fixtures)
    CITIZEN_DATA,
    CONSENT_REQUEST,
    api,
    demo_services,
    grant,
    tokens,
)
from tests.e2e.test_erasure_at_rest import _tables_holding
from tests.e2e.test_login_and_read import ENGLISH, _browser_login
from tests.exports import run_verifier, validate

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks", "browser_settings", "demo_services"),
]

HARBOUR_FIELDS = ["profile.email", "berths.lease.harbor", "berths.boat.name"]
LINK = "mutation($barcode: String!, $pin: String!) { linkLibraryCard(barcode: $barcode, pin: $pin) { linked errors { code } } }"  # noqa: E501
SYNC = "mutation { syncMyData { sources { source status } errors { code } } }"
EXPORT = "mutation { exportMyData { export errors { code } } }"
CONSENT_STATE = "query($id: String!) { consentRequest(id: $id) { consentState citizenErasedAt } }"


def _values(record: dict) -> dict:
    return {field_id.rsplit(".", 1)[1]: f["value"] for field_id, f in record["fields"].items()}


def test_eeros_export_validates_holds_his_data_and_verifies_offline(
    live_server,
    sandbox,
    api,  # noqa: F811
    tokens,  # noqa: F811
    tmp_path,
):
    with httpx.Client(headers=ENGLISH, follow_redirects=True, timeout=30) as browser:
        landed = _browser_login(browser, live_server, "eero")
        assert landed.status_code == 200 and str(landed.url) == f"{live_server.url}/"

        bearer = {"Authorization": f"Bearer {tokens.citizen('eero')}"}

        def graphql(query: str, **variables: str) -> dict:
            response = httpx.post(
                f"{live_server.url}/graphql/",
                json={"query": query, "variables": variables},
                headers=bearer,
                timeout=30,
            )
            assert response.status_code == 200, response.text
            return dict(response.json()["data"])

        linked = graphql(LINK, barcode=EERO_LIBRARY.barcode, pin=EERO_LIBRARY.pin)
        assert linked["linkLibraryCard"] == {"linked": True, "errors": []}
        synced = graphql(SYNC)["syncMyData"]
        assert {s["source"]: s["status"] for s in synced["sources"]} == {
            "youth": "SUCCEEDED",
            "berths": "SUCCEEDED",
            "library": "SUCCEEDED",
        }
        granted = grant(
            api, tokens, service="demo-service-2", citizen="eero", fields=HARBOUR_FIELDS
        )
        read = api(CITIZEN_DATA, tokens.service("demo-service-2"), id=granted["citizenId"])
        assert read["data"]["citizenData"]["grantedFields"] == HARBOUR_FIELDS

        profile_page = browser.get(f"{live_server.url}/profile/").text
        assert 'href="/export/"' in profile_page
        download = browser.get(f"{live_server.url}/export/")
        jwks = browser.get(f"{live_server.url}/.well-known/jwks.json")
        # the URL the export names, on this live server (WALLET_BASE_URL is the configured one)
        schema_path = urlparse(json.loads(download.content)["$schema"]).path
        schema = browser.get(f"{live_server.url}{schema_path}")

    assert download.status_code == 200 and "no-store" in download.headers["Cache-Control"]
    assert download.headers["Content-Disposition"].startswith(
        'attachment; filename="oma-helsinki-export-'
    )
    document = json.loads(download.content)
    validate(document)
    assert schema.status_code == 200 and schema.json()["$id"] == "urn:oma-helsinki:wallet-export:v1"

    # his profile, from the provider's claims at sign-in
    assert document["citizen"]["subject"] == str(EERO.sub)
    profile = document["profile"]
    assert profile["profile.first_name"]["value"] == EERO.first_name
    assert profile["profile.email"] == {
        **profile["profile.email"],
        "value": EERO.email,
        "origin": "oidc",
    }

    records = document["records"]
    [lease] = [r for r in records if r["kind"] == "berths.lease"]
    assert _values(lease)["harbor"] == EERO_LEASE.harbor
    assert _values(lease)["berth_number"] == EERO_LEASE.berth_number
    assert Decimal(_values(lease)["price"]) == EERO_LEASE.total_price
    assert lease["processing"]["retention"]["en"].startswith("3 years after the lease")
    [boat] = [r for r in records if r["kind"] == "berths.boat"]
    assert _values(boat)["registration_number"] == EERO_BOAT.registration_number
    assert _values(boat)["name"] == EERO_BOAT.name
    loans = [_values(r) for r in records if r["kind"] == "library.loan"]
    assert sorted(loan["call_number"] for loan in loans) == sorted(
        c.call_number for c in EERO_LIBRARY.checkouts
    )
    [account] = [r for r in records if r["kind"] == "library.account"]
    assert _values(account)["barcode"] == EERO_LIBRARY.barcode  # his own card: not masked

    sources = {s["source"]: s for s in document["sources"]}
    assert sources["library"]["link"]["accountId"] == str(EERO_LIBRARY.patron_id)
    assert sources["berths"]["link"] is None
    assert all(s["lastSyncStatus"] == "succeeded" for s in sources.values())

    [consent] = document["consents"]
    assert consent["service"]["slug"] == "demo-service-2" and consent["state"] == "given"
    assert consent["fields"] == HARBOUR_FIELDS
    assert consent["pairwiseId"] == granted["citizenId"]
    assert consent["receipt"].count(".") == 2

    [entry] = document["accessLog"]["entries"]
    assert entry["fields"] == HARBOUR_FIELDS
    assert entry["consentIds"] == [consent["id"]]
    assert entry["service"]["slug"] == "demo-service-2"

    # offline: the file as downloaded, the JWKS as published
    export_file = tmp_path / "eero.json"
    export_file.write_bytes(download.content)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_bytes(jwks.content)
    verified = run_verifier(export_file, jwks_file)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "1 entries, chained end to end" in verified.stdout
    assert "1 receipt(s) signed by the wallet" in verified.stdout

    # a later export, by GraphQL with his bearer token, after another read: it extends this one
    api(CITIZEN_DATA, tokens.service("demo-service-2"), id=granted["citizenId"])
    later = httpx.post(
        f"{live_server.url}/graphql/",
        json={"query": EXPORT},
        headers={"Authorization": f"Bearer {tokens.citizen('eero')}"},
        timeout=30,
    ).json()["data"]["exportMyData"]
    assert later["errors"] == []
    later_file = tmp_path / "eero-later.json"
    later_file.write_text(later["export"])
    validate(json.loads(later["export"]))
    extended = run_verifier(later_file, jwks_file, previous=export_file)
    assert extended.returncode == 0, extended.stdout + extended.stderr
    assert "extends the older one's (entry 1)" in extended.stdout

    # He asks the city to delete his data: the profile service checks, then deletes.
    gdpr_url = f"{live_server.url}/gdpr-api/v1/profiles/{EERO.sub}"

    def gdpr_token(scope: str) -> dict[str, str]:
        token = sandbox.password_token("eero", scope=scope, client_id=HELSINKI_PROFILE_CLIENT_ID)
        return {"Authorization": f"Bearer {token['access_token']}"}

    query, delete = gdpr_token(GDPR_QUERY_SCOPE), gdpr_token(GDPR_DELETE_SCOPE)
    before = httpx.get(gdpr_url, headers=query, timeout=30)
    assert before.status_code == 200 and EERO_BOAT.registration_number in before.text
    dry_run = httpx.delete(gdpr_url, params={"dry_run": "true"}, headers=delete, timeout=30)
    assert dry_run.status_code == 204
    assert httpx.get(gdpr_url, headers=query, timeout=30).status_code == 200  # still all there
    assert httpx.delete(gdpr_url, headers=delete, timeout=30).status_code == 204

    # nothing of him at rest, in either database, not even his sub or his pairwise id
    needles = {
        value.lower()
        for value in (
            EERO.first_name,
            EERO.last_name,
            EERO.email,
            str(EERO.sub),
            EERO_BOAT.registration_number,
            EERO_BOAT.name,
            EERO_LEASE.harbor,
            EERO_LIBRARY.barcode,
            granted["citizenId"],
            *(checkout.call_number for checkout in EERO_LIBRARY.checkouts),
        )
    }
    assert _tables_holding(needles) == set()
    assert httpx.get(gdpr_url, headers=query, timeout=30).status_code == 204

    # demo-service-2 asks about its request: withdrawn, and when; its reads are refused
    told = api(CONSENT_STATE, tokens.service("demo-service-2"), id=granted["id"])
    request = told["data"]["consentRequest"]
    assert request["consentState"] == "WITHDRAWN" and request["citizenErasedAt"]
    refused = api(CITIZEN_DATA, tokens.service("demo-service-2"), id=granted["citizenId"])
    assert refused["errors"][0]["extensions"]["code"] == "CONSENT_WITHDRAWN"
