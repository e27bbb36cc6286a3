"""The connector contract: a fourth source is one package plus one settings entry.

The package is tests/connectors/fake_source/ (its declaration, settings, connector, catalogue
kind and `Me` field); nothing else in the code base knows it. Each test below enables it with one
entry in settings.CONNECTORS (the `fake_source` fixture) and then finds it where the three real
sources are: in the registry and `sources`, syncing a citizen over real HTTP from a small
upstream on the loopback, its records sealed, in `me` under a GraphQL type generated from its
catalogue kind, and in the field catalogue that consents are given from.

The root schema is built at import, before a test can change the settings: a test that enables
a source builds its own with `wallet.schema.schema_build()` and serves it by overriding
`GRAPHENE["SCHEMA"]` (graphene-django reads it for each request).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from connectors import base, services
from connectors.models import SyncRun
from consent import services as consent_services
from consent.demo import demo_services_seed
from tests.factories import CitizenFactory
from wallet import catalogue
from wallet.graphql.documents import document_cache
from wallet.models import DataRecord
from wallet.schema import schema as root_schema
from wallet.schema import schema_build
from wallet.selectors import citizen_wallet

pytestmark = pytest.mark.django_db(databases="__all__")

API_KEY = "fake-api-key-" + uuid.uuid4().hex
FAKE_FIELDS = [
    "fake.thing.name",
    "fake.thing.level",
    "fake.thing.count",
    "fake.thing.due",
    "fake.thing.secret_note",
]
THINGS = [
    {
        "id": "t-1",
        "name": "Kettle",
        "level": "HIGH",
        "count": 3,
        "due": "2027-01-31",
        "secretNote": "under the mat",
    },
    {"id": "t-2", "name": "Lamp", "level": "LOW", "count": 1, "due": None},
]


class _Upstream(BaseHTTPRequestHandler):
    """`GET /api/things/<sub>`: the things of a known subject, 404 for anyone else, 401 without
    the API key."""

    things: dict[str, list[dict[str, object]]] = {}

    def do_GET(self) -> None:
        match = re.fullmatch(r"/api/things/([0-9a-f-]+)", self.path)
        if self.headers.get("X-Api-Key") != API_KEY:
            self._answer(401, {"error": "bad key"})
        elif match is None or match[1] not in self.things:
            self._answer(404, {"error": "not found"})
        else:
            self._answer(200, {"things": self.things[match[1]]})

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def fake_upstream() -> Iterator[str]:
    """The fake source's upstream, over real HTTP on the loopback; its API root URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()
        _Upstream.things = {}


@pytest.fixture
def fake_source(settings, fake_upstream):  # type: ignore[no-untyped-def]
    """The one settings entry that adds the source: its package and its own settings."""
    settings.CONNECTORS = {
        **settings.CONNECTORS,
        "fake": {
            "PACKAGE": "tests.connectors.fake_source",
            "BASE_URL": fake_upstream,
            "API_KEY": API_KEY,
        },
    }
    yield
    document_cache.clear()  # documents validated against this test's schema


def _citizen_with_things():  # type: ignore[no-untyped-def]
    citizen = CitizenFactory()
    _Upstream.things[citizen.subject] = THINGS
    return citizen


def test_without_its_entry_the_source_does_not_exist():
    assert "fake" not in {c.source for c in base.connectors()}
    assert not set(FAKE_FIELDS) & set(catalogue.field_ids())
    assert "fakeThings" not in root_schema.graphql_schema.get_type("Me").fields


@pytest.mark.usefixtures("fake_source")
def test_one_settings_entry_registers_the_source_its_kinds_and_its_sweeps():
    connector = base.connector_for("fake")
    assert [c.source for c in base.connectors()] == ["youth", "berths", "library", "fake"]
    assert set(FAKE_FIELDS) <= set(catalogue.field_ids())
    assert catalogue.field_by_id("fake.thing.secret_note").sensitive
    # the sweep modes are what it declares: full only
    assert not connector.supports_incremental
    # its own settings: the entry over the declared defaults
    assert connector.settings["TIMEOUT_SECONDS"] == 5.0


@pytest.mark.usefixtures("fake_source")
def test_the_source_syncs_a_citizen_over_http_and_its_records_are_sealed():
    citizen = _citizen_with_things()

    [run] = services.citizen_sync(citizen=citizen, trigger="test", sources=["fake"])

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert (run.fetched, run.created, run.updated) == (2, 2, 0)
    stored = DataRecord.objects.filter(citizen=citizen, source="fake", kind="thing")
    assert stored.count() == 2
    for row in stored:  # sealed: no value of the upstream's in the stored bytes
        assert b"Kettle" not in bytes(row.payload) and b"under the mat" not in bytes(row.payload)
    things = {
        r.payload["name"]: r.payload
        for r in citizen_wallet(citizen=citizen).records(source="fake", kind="thing")
    }
    assert things["Kettle"]["level"] == "HIGH" and things["Kettle"]["due"] == "2027-01-31"
    # idempotent, as every source's upsert is
    [again] = services.citizen_sync(citizen=citizen, trigger="test", sources=["fake"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.usefixtures("fake_source", "in_process_tasks")
def test_the_sync_command_and_a_sweep_know_the_source():
    citizen = _citizen_with_things()

    call_command(
        "sync", "--source", "fake", "--citizen", citizen.subject, "--issuer", citizen.issuer
    )
    assert DataRecord.objects.filter(citizen=citizen, source="fake").count() == 2

    run = services.sweep_start(source="fake", incremental=False, trigger="test")
    assert run.status == SyncRun.Status.SUCCEEDED and run.unchanged == 2


@pytest.mark.usefixtures("fake_source")
def test_a_wrong_api_key_fails_the_run_with_a_typed_reason(settings):
    citizen = _citizen_with_things()
    settings.CONNECTORS = {
        **settings.CONNECTORS,
        "fake": {**settings.CONNECTORS["fake"], "API_KEY": "wrong"},
    }

    [run] = services.citizen_sync(citizen=citizen, trigger="test", sources=["fake"])

    assert run.status == SyncRun.Status.FAILED and run.error_code == "UPSTREAM_AUTH_FAILED"


ME_FAKE = """{ me {
  fakeThings { name level count due secretNote withheldFields origin { source state } }
  sources { name label controller }
} }"""


@pytest.mark.usefixtures("fake_source")
def test_its_records_show_in_me_with_their_generated_type(settings):
    citizen = _citizen_with_things()
    services.citizen_sync(citizen=citizen, trigger="test", sources=["fake"])
    schema = schema_build()
    settings.GRAPHENE = {**settings.GRAPHENE, "SCHEMA": schema}
    client = Client()
    client.force_login(citizen)
    session = client.session
    session["wallet_loa"] = "low"
    session.save()

    response = client.post("/graphql/", {"query": ME_FAKE}, content_type="application/json")

    body = response.json()
    assert "errors" not in body, body
    me = body["data"]["me"]
    things = {t["name"]: t for t in me["fakeThings"]}
    assert things["Kettle"] == {
        "name": "Kettle",
        "level": "HIGH",
        "count": 3,
        "due": "2027-01-31",
        "secretNote": None,  # sensitive: held back below substantial assurance
        "withheldFields": ["fake.thing.secret_note"],
        "origin": {"source": "fake", "state": "active"},
    }
    assert things["Lamp"]["due"] is None
    assert {s["name"] for s in me["sources"]} == {"youth", "berths", "library", "fake"}
    [fake] = [s for s in me["sources"] if s["name"] == "fake"]
    assert (fake["label"], fake["controller"]) == ("Test source", "Nobody (a test)")
    # the type is generated from the catalogue kind: scalars, and an enum of its choices
    graphql_schema = schema.graphql_schema
    thing_type = graphql_schema.get_type("FakeThing")
    assert str(thing_type.fields["count"].type) == "Int"
    assert str(thing_type.fields["level"].type) == "FakeThingLevel"
    assert set(graphql_schema.get_type("FakeThingLevel").values) == {"LOW", "HIGH"}
    assert str(graphql_schema.get_type("Me").fields["fakeThings"].type) == "[FakeThing!]!"


@pytest.mark.usefixtures("fake_source")
def test_its_fields_can_be_consented_to_and_read_by_a_service():
    citizen = _citizen_with_things()
    services.citizen_sync(citizen=citizen, trigger="test", sources=["fake"])
    service = demo_services_seed()[0]
    service.allowed_fields = [*service.allowed_fields, *FAKE_FIELDS]
    service.save(update_fields=["allowed_fields"])

    request = consent_services.consent_request_create(
        service=service,
        field_ids=["fake.thing.name", "fake.thing.level"],
        purpose_code="membership-check",
        redirect_uri=service.redirect_uri_list()[0],
    )
    consent = consent_services.consent_request_decide(
        citizen=citizen, loa="substantial", request_id=request.pk, approve=True
    ).consent
    assert consent is not None
    read = consent_services.citizen_data_read(
        service=service,
        pairwise_id=consent.subject.pairwise_id,
        request_id=str(uuid.uuid4()),
        field_ids=None,
    )

    assert read is not None
    assert read.granted_fields == ["fake.thing.name", "fake.thing.level"]
    assert "fake.thing.secret_note" in read.withheld_fields
    shared = sorted(repr(record) for record in read.records)
    assert any("Kettle" in text and "HIGH" in text for text in shared), shared
    assert not any("under the mat" in text for text in shared)


def test_the_settings_are_back_after_a_test_that_added_the_source():
    assert "fake" not in django_settings.CONNECTORS
    assert "fake" not in {c.source for c in base.connectors()}
