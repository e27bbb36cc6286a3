"""The connectors' members of the data export (connectors/export.py): a source added by settings
alone is in it with its records, and records of a source no longer enabled stay in it."""

from __future__ import annotations

import pytest

from connectors import services
from connectors.models import SyncRun
from tests.connectors.test_fourth_source import (  # noqa: F401 (fixtures)
    THINGS,
    _citizen_with_things,
    fake_source,
    fake_upstream,
)
from tests.exports import validate
from wallet.export import citizen_export
from wallet.services import UpstreamRecord, citizen_get_or_create, records_upsert

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.mark.usefixtures("fake_source")
def test_a_source_added_by_settings_is_exported_with_its_records():
    citizen = _citizen_with_things()
    [run] = services.citizen_sync(citizen=citizen, trigger="test", sources=["fake"])
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors

    document = citizen_export(citizen=citizen)

    validate(document)  # the v1 schema takes a kind it does not describe
    fake = next(s for s in document["sources"] if s["source"] == "fake")
    assert fake["lastSyncStatus"] == "succeeded" and fake["lastSyncedAt"] is not None
    assert fake["link"] is None  # it knows the citizen by `sub`
    assert set(fake["processing"]) == {"controller", "lawfulBasis", "purpose", "retention"}
    things = [r for r in document["records"] if r["kind"] == "fake.thing"]
    assert sorted(r["fields"]["fake.thing.name"]["value"] for r in things) == sorted(
        t["name"] for t in THINGS
    )
    kettle = next(r for r in things if r["fields"]["fake.thing.name"]["value"] == "Kettle")
    assert kettle["fields"]["fake.thing.secret_note"] == {
        "label": {"fi": "Salainen", "sv": "Hemlig", "en": "Secret note"},
        "type": "string",
        "sensitive": True,
        "value": "under the mat",
    }
    assert kettle["processing"] == fake["processing"]


def test_records_of_a_source_no_longer_enabled_stay_in_the_export(settings):
    citizen, _ = citizen_get_or_create(issuer="https://idp.example", subject="retired")
    payload = {"call_number": "84.2 TOL", "due_date": "2026-12-09", "renewals": 1}
    records_upsert(
        citizen=citizen,
        source="library",
        records=[UpstreamRecord(kind="loan", external_id="retired-1", payload=payload)],
    )
    settings.CONNECTORS = {k: v for k, v in settings.CONNECTORS.items() if k != "library"}

    document = citizen_export(citizen=citizen)

    validate(document)
    assert "library" not in {s["source"] for s in document["sources"]}
    [loan] = document["records"]
    assert (loan["source"], loan["kind"], loan["state"]) == ("library", "library.loan", "active")
    assert (loan["label"], loan["processing"], loan["fields"]) == (None, None, {})
    assert loan["otherValues"] == payload  # no longer described, still theirs
