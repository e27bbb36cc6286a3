"""Key lifecycle: KEK rotation, data-key rotation, crypto-shredding, start-up checks."""

import base64
import gc
import json
import os
import uuid
from contextlib import ExitStack
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from tests.factories import CitizenFactory
from wallet import checks, crypto, erasure, services
from wallet.keys import cipher_from_key, citizen_key_create, data_key_rotate, kek_rotate
from wallet.models import Citizen, CitizenKey, DataRecord, Profile
from wallet.selectors import citizen_wallet
from wallet.services import UpstreamRecord

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _kek() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _citizen_with_data(n: int = 0) -> Citizen:
    citizen = CitizenFactory()
    services.profile_update_from_claims(
        citizen=citizen, claims={"given_name": f"Name{n}", "email": f"person{n}@example.com"}
    )
    services.records_upsert(
        citizen=citizen,
        source="youth",
        records=[
            UpstreamRecord(
                kind="membership",
                external_id=f"n{n}",
                payload={"membership_number": f"M{n}", "status": "ACTIVE"},
            )
        ],
    )
    return Citizen.objects.get(pk=citizen.pk)


def _readable(citizen: Citizen) -> tuple[str, str]:
    citizen = Citizen.objects.get(pk=citizen.pk)
    wallet = citizen_wallet(citizen=citizen)
    [card] = wallet.records(source="youth", kind="membership")
    return wallet.profile["first_name"].value, card.payload["membership_number"]


def _data_rows() -> dict:
    return {
        "profiles": {p.pk: bytes(p.payload) for p in Profile.objects.all()},
        "records": {r.pk: bytes(r.payload) for r in DataRecord.objects.all()},
    }


def _rotate_kek(*args: str) -> dict:
    out = StringIO()
    call_command("rotate_kek", *args, stdout=out)
    return json.loads(out.getvalue())


def test_rotate_kek_rewraps_every_key_and_rewrites_no_data_row(settings, client):
    settings.WALLET_KEKS = f"1:{_kek()}"
    citizens = [_citizen_with_data(n) for n in range(5)]
    before = _data_rows()
    old_kek = settings.WALLET_KEKS

    settings.WALLET_KEKS = f"{old_kek},2:{_kek()}"
    summary = _rotate_kek("--batch-size", "2")

    assert summary["rewrapped"] == 5 and summary["failed"] == 0
    assert summary["data_rows_rewritten"] == 0 and summary["batches"] == 3
    assert set(CitizenKey.objects.values_list("kek_version", flat=True)) == {2}
    assert _data_rows() == before  # not a byte changed
    # the old KEK can now go, and everything still opens
    settings.WALLET_KEKS = settings.WALLET_KEKS.split(",")[1]
    assert [_readable(c) for c in citizens] == [(f"Name{n}", f"M{n}") for n in range(5)]
    for n, citizen in enumerate(citizens):  # and the API returns every citizen's data
        client.force_login(citizen)
        me = client.post(
            "/graphql/",
            {"query": "{ me { profile { firstName } youthMembership { membershipNumber } } }"},
            content_type="application/json",
        ).json()["data"]["me"]
        assert me == {
            "profile": {"firstName": f"Name{n}"},
            "youthMembership": {"membershipNumber": f"M{n}"},
        }
    assert _rotate_kek()["rewrapped"] == 0  # nothing left to do


def test_rotate_kek_counts_data_writes_honestly(settings):
    """The summary's data_rows_rewritten is measured: a write to a data table during the
    rotation shows up in it."""
    from wallet import keys

    settings.WALLET_KEKS = f"1:{_kek()}"
    citizen = _citizen_with_data()
    settings.WALLET_KEKS += f",2:{_kek()}"
    real_rewrap = keys._rewrap

    def rewrap_and_touch_data(key, rewrapper):
        Profile.objects.filter(citizen_id=citizen.pk).update(email_index="x")
        return real_rewrap(key, rewrapper)

    keys._rewrap = rewrap_and_touch_data
    try:
        assert keys.kek_rotate().data_rows_rewritten == 1
    finally:
        keys._rewrap = real_rewrap


def test_interrupted_rotation_is_finished_by_a_rerun(settings, monkeypatch):
    settings.WALLET_KEKS = f"1:{_kek()}"
    citizens = [_citizen_with_data(n) for n in range(4)]
    settings.WALLET_KEKS += f",2:{_kek()}"
    from wallet import keys

    real_rewrap, calls = keys._rewrap, []

    def crash_after_two(key, rewrapper):
        if len(calls) == 2:
            raise KeyboardInterrupt("operator pressed Ctrl-C")
        calls.append(key)
        return real_rewrap(key, rewrapper)

    monkeypatch.setattr(keys, "_rewrap", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        keys.kek_rotate(batch_size=2)
    monkeypatch.setattr(keys, "_rewrap", real_rewrap)

    assert sorted(CitizenKey.objects.values_list("kek_version", flat=True)) == [1, 1, 2, 2]
    summary = _rotate_kek()
    assert (summary["rewrapped"], summary["already_current"]) == (2, 2)
    assert [_readable(c)[1] for c in citizens] == ["M0", "M1", "M2", "M3"]


def _keys_only(count: int) -> list[uuid.UUID]:
    """Citizens' keys in the key store and nothing else: all a KEK rotation reads."""
    ids = sorted(uuid.uuid4() for _ in range(count))
    for citizen_id in ids:
        citizen_key_create(citizen_id=citizen_id)
    return ids


def _kek_versions() -> dict[uuid.UUID, tuple[int, int | None]]:
    return {
        key.citizen_id: (key.kek_version, key.pending_kek_version)
        for key in CitizenKey.objects.all()
    }


def test_rotate_kek_runs_the_same_statements_for_every_batch(settings, django_assert_num_queries):
    settings.WALLET_KEKS = f"1:{_kek()}"
    _keys_only(10)
    keystore = connections["keys"]
    # A batch is a SELECT of the next keys and one UPDATE of them all (on SQLite, one
    # executemany of a prepared UPDATE, between its BEGIN and COMMIT).
    per_batch = 2 if keystore.vendor == "postgresql" else 4
    for version, batch_size, batches in ((2, 5, 2), (3, 2, 5)):
        settings.WALLET_KEKS += f",{version}:{_kek()}"
        # the count of current keys; each batch; a SELECT that finds the pass over (the last
        # batch was full); the closing pass's one SELECT, which finds nothing left
        expected = 1 + per_batch * batches + 1 + 1
        statements: list[str] = []

        def record(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with (
            django_assert_num_queries(expected, connection=keystore),
            django_assert_num_queries(0),  # not a statement on the data database
            keystore.execute_wrapper(record),
        ):
            summary = kek_rotate(batch_size=batch_size)
        assert (summary.batches, summary.rewrapped, summary.passes) == (batches, 10, 2)
        updates = [sql for sql in statements if sql.startswith("UPDATE")]
        assert len(updates) == batches and len(set(updates)) == 1  # one statement's text
    assert set(_kek_versions().values()) == {(3, None)}


def test_the_rotation_batch_size_is_a_setting(settings):
    settings.WALLET_KEKS = f"1:{_kek()}"
    _keys_only(5)
    settings.WALLET_KEKS += f",2:{_kek()}"
    settings.WALLET_KEK_ROTATION_BATCH_SIZE = 2
    summary = _rotate_kek()
    assert (summary["batches"], summary["rewrapped"]) == (3, 5)


def test_the_rotation_leaves_the_garbage_collector_as_it_found_it(settings):
    settings.WALLET_KEKS = f"1:{_kek()}"
    _keys_only(3)
    settings.WALLET_KEKS += f",2:{_kek()}"
    gc.unfreeze()
    assert kek_rotate().rewrapped == 3 and gc.get_freeze_count() == 0
    gc.freeze()  # someone else froze these: the rotation leaves them be and freezes nothing more
    try:
        frozen = gc.get_freeze_count()
        settings.WALLET_KEKS += f",3:{_kek()}"
        assert kek_rotate().rewrapped == 3
        assert frozen - 100 < gc.get_freeze_count() <= frozen  # (some were freed meanwhile)
    finally:
        gc.unfreeze()


def test_no_index_covers_a_column_every_rotation_rewrites():
    """An index on a column each rotation changes in every row makes every one of those updates
    a non-HOT one: a new entry in every index of the table."""
    keystore = connections["keys"]
    with keystore.cursor() as cursor:
        constraints = keystore.introspection.get_constraints(cursor, CitizenKey._meta.db_table)
    indexed = {
        column
        for constraint in constraints.values()
        if constraint["index"] or constraint["primary_key"] or constraint["unique"]
        for column in constraint["columns"] or []
    }
    rewritten = {"kek_version", "wrapped_key", "pending_kek_version", "pending_wrapped_key"}
    assert indexed == {"citizen_id"} and not indexed & rewritten


def _during_the_rotation(monkeypatch, action) -> None:
    """Run `action` once, after the rotation has read its first batch and before it writes
    it: what another process writing at that moment does."""
    from wallet import keys

    real_rewrap, done = keys._rewrap, []

    def rewrap(key, rewrapper):
        if not done:
            done.append(True)
            action()
        return real_rewrap(key, rewrapper)

    monkeypatch.setattr(keys, "_rewrap", rewrap)


def test_a_data_key_rotated_during_the_kek_rotation_is_not_overwritten(settings, monkeypatch):
    settings.WALLET_KEKS = f"1:{_kek()}"
    citizens = sorted((_citizen_with_data(n) for n in range(3)), key=lambda c: c.pk)
    settings.WALLET_KEKS += f",2:{_kek()}"
    first = citizens[0]
    _during_the_rotation(monkeypatch, lambda: data_key_rotate(citizen=first))

    summary = kek_rotate()

    # its key changed after the rotation read it: not overwritten with the old one re-wrapped
    assert (summary.rewrapped, summary.changed_meanwhile, summary.failed) == (2, 1, 0)
    assert CitizenKey.objects.get(citizen_id=first.pk).generation == 2
    settings.WALLET_KEKS = settings.WALLET_KEKS.split(",")[1]  # KEK 1 retired
    assert sorted(_readable(c)[1] for c in citizens) == ["M0", "M1", "M2"]


def test_keys_written_under_the_old_kek_during_the_rotation_are_rewrapped_too(
    settings, monkeypatch
):
    """A process that has not been given the new KEK yet keeps wrapping under the old one: a
    new citizen's key behind the rotation's position, a data-key rotation of a citizen the
    rotation has read. The closing pass finds both."""
    old = f"1:{_kek()}"
    settings.WALLET_KEKS = old
    citizens = sorted((_citizen_with_data(n) for n in range(3)), key=lambda c: c.pk)
    new = f"{old},2:{_kek()}"
    settings.WALLET_KEKS = new
    newcomer = uuid.UUID(int=1)  # before every other id: behind the pass once it has begun

    def old_process_writes():
        settings.WALLET_KEKS = old
        try:
            citizen_key_create(citizen_id=newcomer)
            data_key_rotate(citizen=citizens[0])
        finally:
            settings.WALLET_KEKS = new

    _during_the_rotation(monkeypatch, old_process_writes)

    summary = kek_rotate()

    assert _kek_versions()[newcomer] == (2, None)
    assert set(_kek_versions().values()) == {(2, None)}
    assert (summary.changed_meanwhile, summary.left_behind, summary.failed) == (1, 0, 0)
    assert summary.rewrapped == 4 and summary.passes == 3  # 2, then 2, then none left
    settings.WALLET_KEKS = new.split(",")[1]  # KEK 1 retired
    assert sorted(_readable(c)[1] for c in citizens) == ["M0", "M1", "M2"]


def test_a_pending_data_key_is_rewrapped_and_its_rotation_finishes_under_the_new_kek(
    settings, monkeypatch
):
    settings.WALLET_KEKS = f"1:{_kek()}"
    citizen = _citizen_with_data()
    _interrupt_data_key_rotation_before_promotion(citizen, monkeypatch)
    assert CitizenKey.objects.get(citizen_id=citizen.pk).pending_generation == 2
    settings.WALLET_KEKS += f",2:{_kek()}"

    assert _rotate_kek()["rewrapped"] == 1
    assert _kek_versions()[citizen.pk] == (2, 2)

    settings.WALLET_KEKS = settings.WALLET_KEKS.split(",")[1]  # KEK 1 retired
    assert _readable(citizen) == ("Name0", "M0")  # sealed under the pending key
    assert data_key_rotate(citizen=Citizen.objects.get(pk=citizen.pk)).generation == 2
    assert _readable(citizen) == ("Name0", "M0")


def test_keys_that_do_not_open_as_their_citizens_are_counted_named_and_left_as_they_are(
    settings,
):
    settings.WALLET_KEKS = f"1:{_kek()}"
    a, b, c = _keys_only(3)
    # a's and b's wrapped keys swapped: each opens under the KEK, but not as its citizen's
    wrapped = {k.citizen_id: bytes(k.wrapped_key) for k in CitizenKey.objects.all()}
    CitizenKey.objects.filter(citizen_id=a).update(wrapped_key=wrapped[b])
    CitizenKey.objects.filter(citizen_id=b).update(wrapped_key=wrapped[a])
    settings.WALLET_KEKS += f",2:{_kek()}"

    summary = kek_rotate(batch_size=2)

    # the closing pass meets the two again: still two failures, not four
    assert (summary.failed, summary.rewrapped, summary.passes) == (2, 1, 2)
    assert sorted(summary.failed_citizens) == sorted([str(a), str(b)])
    assert _kek_versions() == {a: (1, None), b: (1, None), c: (2, None)}
    with pytest.raises(CommandError, match="2 data keys could not be unwrapped"):
        _rotate_kek()


def test_retired_kek_still_in_use_is_a_start_up_error_and_rotation_says_who(settings):
    settings.WALLET_KEKS = f"1:{_kek()}"
    citizen = _citizen_with_data()
    settings.WALLET_KEKS = f"2:{_kek()}"  # version 1 retired too early
    [error] = checks.keys_in_use_are_configured()
    assert error.id == "wallet.E003" and "[1]" in error.msg
    with pytest.raises(CommandError, match="could not be unwrapped"):
        _rotate_kek()
    with pytest.raises(crypto.MissingKeyError, match="version 1 is not configured"):
        _readable(citizen)


def test_rotate_data_key_reseals_everything_under_a_new_key():
    citizen = _citizen_with_data()
    old_key = CitizenKey.objects.get(citizen_id=citizen.pk)
    old_cipher = cipher_from_key(old_key, generation=1)
    before = _data_rows()

    out = StringIO()
    call_command(
        "rotate_data_key", "--citizen", citizen.subject, "--issuer", citizen.issuer, stdout=out
    )
    summary = json.loads(out.getvalue())

    assert summary == {"citizen": str(citizen.pk), "generation": 2, "rows_reencrypted": 2}
    after = _data_rows()
    assert all(after[t][pk] != before[t][pk] for t in before for pk in before[t])
    assert _readable(citizen) == ("Name0", "M0")
    record = DataRecord.objects.get()
    with pytest.raises(crypto.DecryptionError):  # the leaked key opens nothing any more
        old_cipher.open(
            table="wallet_datarecord", row_id=record.pk, field="payload", ciphertext=record.payload
        )
    key = CitizenKey.objects.get(citizen_id=citizen.pk)
    assert (key.generation, key.pending_generation) == (2, None)


def _interrupt_data_key_rotation_before_promotion(citizen: Citizen, monkeypatch) -> None:
    """A data-key rotation whose key store goes away at its third step, after the data was
    re-sealed under the pending key."""
    from django.db import transaction

    from wallet import keys

    keystore_steps = []

    class CrashBeforePromotion:
        @staticmethod
        def atomic(*args, **kwargs):
            if kwargs.get("using") == "keys":
                keystore_steps.append(1)
                if len(keystore_steps) == 2:
                    raise ConnectionError("key store went away")
            return transaction.atomic(*args, **kwargs)

    monkeypatch.setattr(keys, "transaction", CrashBeforePromotion)
    with pytest.raises(ConnectionError):
        data_key_rotate(citizen=citizen)
    monkeypatch.setattr(keys, "transaction", transaction)


def test_data_key_rotation_interrupted_after_resealing_is_readable_and_finished_by_a_rerun(
    monkeypatch,
):
    citizen = _citizen_with_data()
    _interrupt_data_key_rotation_before_promotion(citizen, monkeypatch)
    assert Citizen.objects.get(pk=citizen.pk).data_key_generation == 2  # step 2 committed

    # readers go by the data database's generation, so nothing is unreadable in between
    assert _readable(citizen) == ("Name0", "M0")
    assert [m.id for m in checks.keys_in_use_are_configured()] == ["wallet.W001"]
    summary = data_key_rotate(citizen=Citizen.objects.get(pk=citizen.pk))
    assert (summary.generation, summary.rows_reencrypted) == (2, 0)
    assert _readable(citizen) == ("Name0", "M0")
    assert checks.keys_in_use_are_configured() == []


def _open_with_any_remaining_key(table: str, row_id, ciphertext: bytes, citizen_id) -> bool:
    """Try every data key left in the key store, each with its own citizen's associated data
    and with the erased citizen's: an attacker holding the KEKs and the key store."""
    for key in CitizenKey.objects.all():
        data_key = crypto.data_key_unwrap(
            wrapped=bytes(key.wrapped_key),
            kek_version=key.kek_version,
            citizen_id=key.citizen_id,
            generation=key.generation,
        )
        for as_citizen in (key.citizen_id, citizen_id):
            cipher = crypto.CitizenCipher(
                citizen_id=as_citizen, generation=key.generation, data_key=data_key
            )
            try:
                cipher.open(table=table, row_id=row_id, field="payload", ciphertext=ciphertext)
                return True
            except crypto.DecryptionError:
                pass
    return False


def test_erasure_destroys_the_key_first_and_a_dump_from_before_cannot_be_opened():
    erased, kept = _citizen_with_data(1), _citizen_with_data(2)
    dump_before = {
        "profiles": [
            (p.citizen_id, bytes(p.payload)) for p in Profile.objects.filter(citizen=erased)
        ],
        "records": [(r.pk, bytes(r.payload)) for r in DataRecord.objects.filter(citizen=erased)],
    }
    # the dump opens while the key exists (the check below is not vacuous)
    assert _open_with_any_remaining_key(
        "wallet_profile", erased.pk, dump_before["profiles"][0][1], erased.pk
    )

    order = []

    def recorder(alias):
        def record(execute, sql, params, many, context):
            order.append((alias, sql.lstrip().split()[0].upper()))
            return execute(sql, params, many, context)

        return record

    with ExitStack() as stack:
        for alias in ("default", "keys"):
            stack.enter_context(connections[alias].execute_wrapper(recorder(alias)))
        result = erasure.citizen_erase(citizen=erased)

    assert result.key_destroyed and result.rows_deleted >= 3
    first_delete = next(entry for entry in order if entry[1] == "DELETE")
    assert first_delete[0] == "keys", "the key must go before any data row"
    assert not Citizen.objects.filter(pk=erased.pk).exists()
    assert not DataRecord.objects.filter(citizen_id=erased.pk).exists()
    for citizen_id, payload in dump_before["profiles"]:
        assert not _open_with_any_remaining_key("wallet_profile", citizen_id, payload, erased.pk)
    for row_id, payload in dump_before["records"]:
        assert not _open_with_any_remaining_key("wallet_datarecord", row_id, payload, erased.pk)
    assert _readable(kept) == ("Name2", "M2")


def test_erase_my_data_over_graphql(client):
    citizen = _citizen_with_data()
    client.force_login(citizen)
    refused = client.post(
        "/graphql/",
        {"query": "mutation { eraseMyData(confirm: false) { erased errors { field code } } }"},
        content_type="application/json",
    ).json()["data"]["eraseMyData"]
    assert refused == {"erased": False, "errors": [{"field": "confirm", "code": "INVALID"}]}
    assert Citizen.objects.filter(pk=citizen.pk).exists()

    done = client.post(
        "/graphql/",
        {"query": "mutation { eraseMyData(confirm: true) { erased errors { code } } }"},
        content_type="application/json",
    ).json()["data"]["eraseMyData"]
    assert done == {"erased": True, "errors": []}
    assert not Citizen.objects.filter(pk=citizen.pk).exists()
    assert not CitizenKey.objects.filter(citizen_id=citizen.pk).exists()
    me = client.post(
        "/graphql/", {"query": "{ me { profile { firstName } } }"}, content_type="application/json"
    )
    assert me.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_email_blind_index_finds_the_profile_without_storing_the_email():
    citizen = _citizen_with_data(7)
    profile = Profile.objects.get(citizen=citizen)
    assert profile.email_index == crypto.blind_index(purpose="email", value=" Person7@Example.com")
    assert b"person7" not in bytes(profile.payload)
    found = Profile.objects.filter(
        email_index=crypto.blind_index(purpose="email", value="person7@example.com")
    )
    assert list(found.values_list("citizen_id", flat=True)) == [citizen.pk]
