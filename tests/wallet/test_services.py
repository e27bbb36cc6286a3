import pytest

from tests.factories import CitizenFactory
from tests.queries import assert_num_queries
from wallet import services
from wallet.models import Citizen, CitizenKey, DataRecord, Profile
from wallet.selectors import citizen_wallet
from wallet.services import UpstreamRecord
from wallet.vault import CitizenClosed

pytestmark = pytest.mark.django_db(databases="__all__")


def _card(number="YM-1001", status="ACTIVE"):
    return UpstreamRecord(
        kind="membership",
        external_id="node-1",
        payload={"membership_number": number, "status": status},
    )


def test_same_upstream_data_twice_writes_nothing_the_second_time():
    citizen = CitizenFactory()
    first = services.records_upsert(
        citizen=citizen, source="youth", records=[_card()], complete_kinds={"membership"}
    )
    assert (first.created, first.updated, first.unchanged) == (1, 0, 0)
    row = DataRecord.objects.get()
    before = (bytes(row.payload), row.updated_at)

    # data: the citizen's records' keys and digests, nothing locked; keys: none (nothing to seal)
    with assert_num_queries(default=1, keys=0) as captured:
        second = services.records_upsert(
            citizen=citizen, source="youth", records=[_card()], complete_kinds={"membership"}
        )
    statements = [q["sql"] for c in captured.values() for q in c.captured_queries]
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert "FOR UPDATE" not in " ".join(statements).upper()
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    row.refresh_from_db()
    assert (bytes(row.payload), row.updated_at) == before


def test_changed_upstream_data_updates_the_sealed_payload():
    citizen = CitizenFactory()
    services.records_upsert(citizen=citizen, source="youth", records=[_card()])
    counts = services.records_upsert(
        citizen=citizen, source="youth", records=[_card(status="EXPIRED")]
    )
    assert counts.updated == 1
    [record] = citizen_wallet(citizen=citizen).records(source="youth", kind="membership")
    assert record.payload["status"] == "EXPIRED"


def test_record_gone_upstream_is_marked_ended_not_deleted():
    citizen = CitizenFactory()
    services.records_upsert(
        citizen=citizen, source="youth", records=[_card()], complete_kinds={"membership"}
    )
    counts = services.records_upsert(
        citizen=citizen, source="youth", records=[], complete_kinds={"membership"}
    )
    assert counts.ended == 1
    row = DataRecord.objects.get()
    assert row.state == DataRecord.State.ENDED and row.ended_at is not None
    wallet = citizen_wallet(citizen=citizen)
    assert wallet.records(source="youth", kind="membership") == []
    assert len(wallet.records(source="youth", kind="membership", include_ended=True)) == 1


def test_incomplete_fetch_ends_nothing():
    citizen = CitizenFactory()
    services.records_upsert(
        citizen=citizen, source="youth", records=[_card()], complete_kinds={"membership"}
    )
    counts = services.records_upsert(
        citizen=citizen, source="youth", records=[], complete_kinds=set()
    )
    assert counts.ended == 0
    assert DataRecord.objects.get().state == DataRecord.State.ACTIVE


def test_duplicate_upstream_records_collapse_onto_one_row():
    citizen = CitizenFactory()
    counts = services.records_upsert(citizen=citizen, source="youth", records=[_card(), _card()])
    assert counts.created == 1
    assert DataRecord.objects.count() == 1


def test_records_are_sealed_and_the_external_id_is_a_blind_index():
    citizen = CitizenFactory()
    services.records_upsert(citizen=citizen, source="youth", records=[_card(number="YM-SECRET-77")])
    row = DataRecord.objects.get()
    assert b"YM-SECRET-77" not in bytes(row.payload)
    assert "node-1" not in row.external_key and len(row.external_key) == 64
    assert CitizenKey.objects.filter(citizen_id=citizen.pk).exists()


def test_profile_starts_from_claims_and_keeps_provenance():
    citizen = CitizenFactory()
    changed = services.profile_update_from_claims(
        citizen=citizen,
        claims={"given_name": "Aino", "family_name": "Virtanen", "email": "a@example.com"},
    )
    assert changed
    profile = citizen_wallet(citizen=citizen).profile
    assert profile["first_name"].value == "Aino"
    assert profile["email"].source == services.SOURCE_PROVIDER
    assert b"Aino" not in bytes(Profile.objects.get().payload)


def test_same_claims_again_change_nothing():
    citizen = CitizenFactory()
    claims = {"given_name": "Aino", "family_name": "Virtanen"}
    services.profile_update_from_claims(citizen=citizen, claims=claims)
    assert services.profile_update_from_claims(citizen=citizen, claims=claims) is False


def test_claims_never_overwrite_what_the_citizen_entered(django_db_blocker):
    citizen = CitizenFactory()
    services.profile_update_from_claims(citizen=citizen, claims={"given_name": "Aino"})
    # the citizen corrects their name themselves (profile editing comes in a later issue)
    from wallet.vault import citizen_writing

    with citizen_writing(citizen) as unit:
        profile = Profile.objects.get()
        entries = services._profile_entries(profile, unit)
        entries["first_name"] = {
            "value": "Aino-Maria",
            "source": services.SOURCE_CITIZEN,
            "updated_at": "2026-11-30T12:00:00+00:00",
        }
        services._profile_save(unit=unit, profile=profile, entries=entries)

    services.profile_update_from_claims(citizen=citizen, claims={"given_name": "Aino"})
    assert citizen_wallet(citizen=citizen).profile["first_name"].value == "Aino-Maria"


def test_citizen_is_keyed_on_issuer_and_subject():
    a, created = services.citizen_get_or_create(issuer="https://idp.example", subject="s-1")
    b, created_again = services.citizen_get_or_create(issuer="https://idp.example", subject="s-1")
    c, _ = services.citizen_get_or_create(issuer="https://other.example", subject="s-1")
    assert created and not created_again
    assert a.pk == b.pk != c.pk
    assert not a.has_usable_password()


def test_an_upsert_with_something_to_end_or_a_closed_citizen_takes_the_locked_path():
    citizen = CitizenFactory()
    services.records_upsert(
        citizen=citizen, source="youth", records=[_card()], complete_kinds={"membership"}
    )
    # nothing came and the kind is complete: the card ends, so the write goes through
    ended = services.records_upsert(
        citizen=citizen, source="youth", records=[], complete_kinds={"membership"}
    )
    assert ended.ended == 1 and DataRecord.objects.get().state == DataRecord.State.ENDED

    Citizen.objects.filter(pk=citizen.pk).update(is_active=False)
    with pytest.raises(CitizenClosed):  # unchanged or not, nothing is written for them
        services.records_upsert(citizen=citizen, source="youth", records=[])
