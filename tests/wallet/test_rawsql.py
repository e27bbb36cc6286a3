"""The core's hot-path SQL (wallet/rawsql.py): names from model metadata, typed rows back."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from django.db import connection

from tests.factories import CitizenFactory
from wallet import keys, rawsql
from wallet.models import AccessLogEntry, AccessLogHead, Citizen, CitizenKey, DataRecord, Profile
from wallet.services import UpstreamRecord, profile_update_from_claims, records_upsert

pytestmark = pytest.mark.django_db(databases="__all__")


def _citizen_with_data():
    citizen = CitizenFactory()
    profile_update_from_claims(citizen=citizen, claims={"email": "r@example.com"})
    records_upsert(
        citizen=citizen,
        source="youth",
        records=[UpstreamRecord(kind="membership", external_id="n1", payload={"status": "A"})],
    )
    return citizen


def test_statements_name_tables_and_columns_from_model_metadata():
    # the quoted names come from _meta: a renamed table or column follows the model
    assert rawsql.table(AccessLogHead) == f'"{AccessLogHead._meta.db_table}"'
    assert rawsql.column(AccessLogHead, "citizen") == '"citizen_id"'
    assert rawsql.column(Citizen, "pk") == f'"{Citizen._meta.pk.column}"'
    assert rawsql.table(AccessLogHead) in rawsql.LOG_HEAD
    assert rawsql.table(AccessLogEntry) in rawsql.LOG_MOVE_HEAD_AND_INSERT
    assert rawsql.table(AccessLogEntry) in rawsql.LOG_INSERT
    assert rawsql.table(CitizenKey) in rawsql._KEY
    assert rawsql.table(Profile) in rawsql._PROFILE_ONLY
    assert rawsql.table(DataRecord) in rawsql._PROFILE_AND_ALL_RECORDS
    with pytest.raises(ValueError, match="not a column"):
        rawsql.column(Citizen, "access_log")  # a reverse relation has no column


def test_the_records_statement_is_built_once_per_number_of_kinds():
    assert rawsql._profile_and_active_records_of(2) is rawsql._profile_and_active_records_of(2)


def test_profile_and_records_come_back_as_typed_rows_not_model_instances():
    citizen = _citizen_with_data()

    sealed = rawsql.profile_and_records(citizen_id=citizen.pk)
    limited = rawsql.profile_and_records(citizen_id=citizen.pk, only_kinds=[("youth", "other")])
    profile_only = rawsql.profile_and_records(citizen_id=citizen.pk, only_kinds=[])

    assert sealed.profile is not None
    [record] = sealed.records
    assert isinstance(record, rawsql.RecordRow)
    assert (record.source, record.kind, record.state) == ("youth", "membership", "active")
    assert isinstance(record.id, uuid.UUID) and record.fetched_at.tzinfo is not None
    assert limited.records == [] and limited.profile is not None
    assert profile_only.records == [] and profile_only.profile is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.state = "ended"  # type: ignore[misc]


def test_the_data_key_comes_back_as_a_row_that_cannot_be_saved():
    citizen = CitizenFactory()
    cipher = keys.citizen_key_create(citizen_id=citizen.pk)

    key = rawsql.citizen_key_fetch(citizen_id=citizen.pk)

    assert isinstance(key, rawsql.KeyRow) and not hasattr(key, "save")
    assert key.citizen_id == citizen.pk and key.pending_generation is None
    sealed = cipher.seal(table="t", row_id=1, field="f", plaintext=b"x")
    opened = keys.cipher_from_key(key, generation=1).open(
        table="t", row_id=1, field="f", ciphertext=sealed
    )
    assert opened == b"x"
    assert rawsql.citizen_key_fetch(citizen_id=uuid.uuid4()) is None


def test_the_citizen_and_log_head_fragment_reads_both_or_no_head():
    # given a citizen with a log head and one made before the log existed (no head)
    with_head, without_head = CitizenFactory(), CitizenFactory()
    AccessLogHead.objects.create(citizen=with_head, seq=0, mac="", generation=1)
    AccessLogHead.objects.filter(citizen=without_head).delete()
    fragment = rawsql.citizen_with_log_head(citizen_id=f"c.{rawsql.column(Citizen, 'pk')}")
    sql = (
        f"SELECT c.{rawsql.column(Citizen, 'pk')}, {fragment.columns} "
        f"FROM {rawsql.table(Citizen)} c {fragment.joins} "
        f"WHERE c.{rawsql.column(Citizen, 'pk')} IN (%s, %s)"
    )

    # when a caller's statement joins it in
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                rawsql.uuid_param(with_head.pk, connection),
                rawsql.uuid_param(without_head.pk, connection),
            ],
        )
        read = dict(fragment.read(row) for row in cursor.fetchall())

    # then the last columns of each row are the citizen and their head, as typed rows
    by_id = {citizen.id: head for citizen, head in read.items()}
    assert by_id[with_head.pk] == rawsql.LogHead(seq=0, mac="", generation=1)
    assert by_id[without_head.pk] is None
    citizen_row = next(c for c in read if c.id == with_head.pk)
    assert citizen_row == rawsql.CitizenRow(id=with_head.pk, data_key_generation=1, is_active=True)
    assert citizen_row.pk == with_head.pk and not hasattr(citizen_row, "save")


def _target_of(citizen_ids):
    """A caller's target: one row per citizen id given (its own values: the id as text)."""
    rows = " UNION ALL ".join(
        f"SELECT {rawsql.column(Citizen, 'issuer')}, {rawsql.column(Citizen, 'date_joined')}, "
        f"{rawsql.column(Citizen, 'pk')}, {rawsql.column(Citizen, 'pk')} "
        f"FROM {rawsql.table(Citizen)} WHERE {rawsql.column(Citizen, 'pk')} = %s"
        for _ in citizen_ids
    )
    return rows, [rawsql.uuid_param(pk, connection) for pk in citizen_ids]


@pytest.mark.parametrize(
    ("kinds", "profile"),
    [
        ([], False),
        ([], True),
        ([("youth", "membership")], False),
        ([("youth", "membership"), ("berths", "lease")], True),
    ],
)
def test_rows_with_wallet_reads_the_callers_rows_the_citizen_and_what_was_asked(kinds, profile):
    # given a citizen with a profile, a youth card and a lease that ended
    citizen = _citizen_with_data()
    records_upsert(
        citizen=citizen,
        source="berths",
        records=[UpstreamRecord(kind="lease", external_id="b1", payload={"harbor": "H"})],
    )
    records_upsert(citizen=citizen, source="berths", records=[], complete_kinds=["lease"])
    AccessLogHead.objects.create(citizen=citizen, seq=3, mac="m", generation=1)
    target, params = _target_of([citizen.pk])
    statement = rawsql.rows_with_wallet(target=target, width=1, kinds=len(kinds), profile=profile)

    # when the statement runs
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params + statement.kinds_params(kinds))
        read = statement.read(cursor.fetchall())

    # then the caller's row, the citizen, and only the profile and active records asked for
    assert read.rows == [(citizen.issuer,)]
    assert read.citizen == rawsql.CitizenRow(citizen.pk, citizen.data_key_generation, True)
    assert read.log_head == rawsql.LogHead(seq=3, mac="m", generation=1)
    assert (read.wallet.profile is not None) is profile
    expected = [("youth", "membership")] if ("youth", "membership") in kinds else []
    assert [(r.source, r.kind) for r in read.wallet.records] == expected
    assert all(isinstance(r, rawsql.RecordRow) for r in read.wallet.records)


def test_rows_with_wallet_reads_no_data_without_a_row_of_the_caller():
    citizen = _citizen_with_data()
    target, _ = _target_of([citizen.pk])
    statement = rawsql.rows_with_wallet(target=target, width=1, kinds=1, profile=True)

    with connection.cursor() as cursor:
        unknown = [rawsql.uuid_param(uuid.uuid4(), connection)]
        cursor.execute(statement.sql, unknown + statement.kinds_params([("youth", "membership")]))
        read = statement.read(cursor.fetchall())

    assert read.rows == [] and read.citizen is None
    assert read.wallet == rawsql.SealedWallet(profile=None, records=[])
    with pytest.raises(ValueError, match="built for 1 kinds"):
        statement.kinds_params([])
