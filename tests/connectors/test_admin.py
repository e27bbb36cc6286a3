"""Admins: staff by the provider's role claim, the admin API, and connector settings."""

import httpx
import pytest

from connectors.config import effective_config
from connectors.models import ConnectorConfig, SyncRun
from sandbox.demo import ADMIN, AINO
from tests.e2e.test_login_and_read import _browser_login
from wallet.models import Citizen

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.usefixtures("in_process_tasks"),
]

RUNS_QUERY = (
    '{ syncRuns(first: 5, source: "youth") { edges { node { source mode status created } } } }'
)


def _api(live_server, token, query, variables=None):
    return httpx.post(
        f"{live_server.url}/graphql/",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()


def test_role_claim_makes_an_admin_staff_and_others_not(live_server, sandbox, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    with httpx.Client(follow_redirects=True, timeout=20) as browser:
        assert _browser_login(browser, live_server, "admin").status_code == 200
        admin_page = browser.get(f"{live_server.url}/admin/")
        assert admin_page.status_code == 200 and "Sync runs" in admin_page.text
    assert Citizen.objects.get(subject=str(ADMIN.sub)).is_staff
    with httpx.Client(follow_redirects=True, timeout=20) as browser:
        _browser_login(browser, live_server, "aino")
        page = browser.get(f"{live_server.url}/admin/")
        assert "Sync runs" not in page.text
    assert not Citizen.objects.get(subject=str(AINO.sub)).is_staff


def test_django_password_login_is_not_offered(client):
    response = client.get("/admin/login/?next=/admin/wallet/")
    assert response.status_code == 302
    assert response["Location"].startswith("/oidc/authenticate/?next=%2Fadmin%2Fwallet%2F")
    assert client.get("/admin/login/?next=https://evil.example/")["Location"].endswith(
        "next=%2Fadmin%2F"
    )


def test_admin_api_is_for_staff_only(live_server, sandbox):
    citizen_token = sandbox.password_token("aino")["access_token"]
    refused = _api(live_server, citizen_token, RUNS_QUERY)
    assert refused["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    refused = _api(live_server, citizen_token, "{ connectors { source } }")
    assert refused["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    refused = _api(
        live_server,
        citizen_token,
        'mutation { runSync(source: "youth", mode: FULL) { run { id } errors { code } } }',
    )
    assert refused["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert not SyncRun.objects.exists()


def test_admin_runs_a_sweep_and_reads_the_history(live_server, sandbox):
    admin_token = sandbox.password_token("admin")["access_token"]
    started = _api(
        live_server,
        admin_token,
        'mutation { runSync(source: "youth", mode: FULL) { '
        "run { source mode status } errors { code } } }",
    )["data"]["runSync"]
    assert started["errors"] == [] and started["run"]["mode"] == "FULL"
    runs = _api(live_server, admin_token, RUNS_QUERY)["data"]["syncRuns"]["edges"]
    assert runs[0]["node"]["source"] == "youth" and runs[0]["node"]["status"] == "SUCCEEDED"
    connectors = _api(
        live_server,
        admin_token,
        "{ connectors { source enabled supportsIncremental latestSweep { status } } }",
    )["data"]["connectors"]
    by_source = {c["source"]: c for c in connectors}
    assert set(by_source) == {"youth", "berths", "library"}
    assert by_source["youth"]["latestSweep"]["status"] == "SUCCEEDED"
    assert by_source["youth"]["supportsIncremental"] is False
    assert by_source["library"]["supportsIncremental"] is True


def test_connector_secret_entered_by_an_admin_is_sealed_and_never_shown(client, sandbox):
    admin = Citizen.objects.create(issuer="x", subject="admin-1", is_staff=True, is_superuser=True)
    client.force_login(admin)
    config, _ = ConnectorConfig.objects.get_or_create(source="berths")  # a migration makes it
    response = client.post(
        f"/admin/connectors/connectorconfig/{config.pk}/change/",
        {
            "source": "berths",
            "enabled": "on",
            "sweep_interval_minutes": "30",
            "base_url": "",
            "token_url": "",
            "client_id": "",
            "new_client_secret": "very-secret-value-123",
        },
    )
    assert response.status_code == 302, response.content[:500]
    config = ConnectorConfig.objects.get(source="berths")
    assert b"very-secret-value-123" not in bytes(config.client_secret_sealed)
    assert effective_config("berths").client_secret == "very-secret-value-123"
    page = client.get(f"/admin/connectors/connectorconfig/{config.pk}/change/").content.decode()
    assert "very-secret-value-123" not in page
    assert "very-secret-value-123" not in repr(effective_config("berths"))
