"""The sealing boundary (wallet.vault, wallet.sealed, wallet.keys, wallet.crypto): the only code
that unwraps a data key or builds what a ciphertext is bound to."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.test import Client

from consent.demo import demo_services_seed
from tests.consent.test_queries import _consent, _read
from tests.factories import CitizenFactory
from tests.queries import assert_num_queries
from wallet import crypto, keys, sealed, services, vault
from wallet.models import ACCESS_LOG_DETAILS, PROFILE_PAYLOAD, RECORD_PAYLOAD, CitizenKey, Profile
from wallet.services import UpstreamRecord

pytestmark = pytest.mark.django_db(databases="__all__")

ROOT = Path(__file__).resolve().parents[2]
BOUNDARY = {"wallet/crypto.py", "wallet/keys.py", "wallet/sealed.py", "wallet/vault.py"}
PRODUCT = ("wallet", "connectors", "consent", "sandbox")
# What only the boundary may do: unwrap a key, hold a raw cipher, or spell a label.
FORBIDDEN = re.compile(
    r"data_key_unwrap|cipher_from_key|CitizenCipher|AESGCM|_associated_data|citizen_key_fetch"
    r"|citizen_key_create|\btable=|\.seal\(\s*table|\.open\(\s*table"
)
# Sessions are sealed under a key derived from SECRET_KEY, not a citizen's: their own AEAD.
ALLOWED = {"wallet/sessions.py": re.compile(r"AESGCM")}


def _product_sources() -> list[Path]:
    return [
        path
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_code_outside_the_boundary_builds_a_label_or_unwraps_a_key():
    offenders = []
    for path in _product_sources():
        relative = path.relative_to(ROOT).as_posix()
        if relative in BOUNDARY or relative == "wallet/rawsql.py":
            continue  # rawsql holds the key row's statement, which the vault runs
        allowed = ALLOWED.get(relative)
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = FORBIDDEN.search(line)
            if match and not (allowed and allowed.fullmatch(match[0])):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


def test_the_grep_would_see_an_offender():
    assert FORBIDDEN.search("cipher.seal(table=LINK_TABLE, row_id=x)")
    assert FORBIDDEN.search("from wallet.keys import cipher_from_key")
    assert not FORBIDDEN.search("unit.seal_json(RECORD_PAYLOAD, row_id=row.pk, value=v)")


def test_every_binary_column_of_the_apps_is_a_declared_sealed_field():
    declared = {(f.model, f.name) for f in sealed.all_fields()}
    binary = {
        (model, field.name)
        for app in ("wallet", "connectors", "consent")
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.BinaryField) and model is not CitizenKey  # the keys
    }
    assert binary and binary == declared


def test_labels_come_from_metadata_and_a_uuid_as_text_is_the_same_row():
    assert (PROFILE_PAYLOAD.table, PROFILE_PAYLOAD.column) == ("wallet_profile", "payload")
    assert ACCESS_LOG_DETAILS.row_id("7") == 7
    citizen = CitizenFactory()
    with vault.citizen_writing(citizen) as unit:
        row = uuid.uuid4()
        sealed_value = unit.seal_text(RECORD_PAYLOAD, row_id=str(row), text="x")
        assert unit.open_text(RECORD_PAYLOAD, row_id=row, ciphertext=sealed_value) == "x"
        with pytest.raises(crypto.DecryptionError):  # another row
            unit.open_text(RECORD_PAYLOAD, row_id=uuid.uuid4(), ciphertext=sealed_value)
        with pytest.raises(crypto.DecryptionError):  # another column, same row
            unit.open_text(PROFILE_PAYLOAD, row_id=row, ciphertext=sealed_value)
    with pytest.raises(ValueError, match="row id"):
        RECORD_PAYLOAD.row_id(None)


def test_a_write_locks_the_citizen_and_uses_the_generation_it_read_under_the_lock():
    citizen = CitizenFactory()
    services.profile_update_from_claims(citizen=citizen, claims={"given_name": "Aino"})
    keys.data_key_rotate(citizen=citizen)
    stale = type(citizen).objects.get(pk=citizen.pk)
    stale.data_key_generation = 1  # a copy read before the rotation
    with vault.citizen_writing(stale) as unit:
        assert unit.generation == unit.citizen.data_key_generation == 2


def test_erased_citizens_have_no_key_to_write_or_read_with():
    citizen = CitizenFactory()
    with vault.citizen_writing(citizen):
        pass
    keys.citizen_key_destroy(citizen_id=citizen.pk)
    assert vault.citizen_reading(citizen) is None
    with pytest.raises(crypto.MissingKeyError), vault.citizen_writing(citizen, create=False):
        pass


class _UnwrapCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        unwrap = crypto.data_key_unwrap

        def counting(**kwargs):  # type: ignore[no-untyped-def]
            self.count += 1
            return unwrap(**kwargs)

        monkeypatch.setattr(crypto, "data_key_unwrap", counting)


ME_EVERYTHING = """{ me {
  profile { firstName email }
  youthMembership { membershipNumber status }
  consents { id fields { id } purpose { code } history { seq } }
  accessLog(first: 5) { edges { node { fields consentIds } } }
  sources { name }
} }"""


def test_a_full_me_fetches_and_unwraps_the_key_once(monkeypatch):
    # given a citizen with a profile, a youth card, a consent and a service's read in the log
    service = demo_services_seed()[0]
    citizen = CitizenFactory()
    services.profile_update_from_claims(
        citizen=citizen, claims={"given_name": "Aino", "email": "aino@example.com"}
    )
    services.records_upsert(
        citizen=citizen,
        source="youth",
        records=[UpstreamRecord(kind="membership", external_id="n1", payload={"status": "ACTIVE"})],
    )
    consent = _consent(citizen, service)
    _read(service, consent)
    client = Client()
    client.force_login(citizen)
    unwraps = _UnwrapCounter(monkeypatch)

    # when everything the citizen sees is read in one request
    # data: session, citizen, profile with records, consents, their statuses, log page, sources
    with assert_num_queries(default=7, keys=1) as captured:
        body = client.post(
            "/graphql/", {"query": ME_EVERYTHING}, content_type="application/json"
        ).json()

    # then the data key was fetched and unwrapped once for the profile, records, consents and log
    assert "errors" not in body, body
    me = body["data"]["me"]
    assert me["profile"]["firstName"] == "Aino" and me["youthMembership"]["status"] == "ACTIVE"
    assert me["consents"][0]["purpose"]["code"] == "membership-check"
    assert me["accessLog"]["edges"][0]["node"]["consentIds"] == [str(consent.pk)]
    assert unwraps.count == 1, captured["keys"].captured_queries


def test_the_key_is_forgotten_when_the_request_ends(monkeypatch):
    citizen = CitizenFactory()
    services.profile_update_from_claims(citizen=citizen, claims={"given_name": "Aino"})
    client = Client()
    client.force_login(citizen)
    unwraps = _UnwrapCounter(monkeypatch)
    for _ in range(2):
        client.post("/graphql/", {"query": "{ me { profile { firstName } } }"}, "application/json")
    assert unwraps.count == 2
    assert Profile.objects.filter(citizen=citizen).exists()


def test_a_wallet_opens_each_record_once_however_often_it_is_asked(monkeypatch):
    from wallet.selectors import citizen_wallet

    citizen = CitizenFactory()
    services.records_upsert(
        citizen=citizen,
        source="youth",
        records=[UpstreamRecord(kind="membership", external_id="n1", payload={"status": "ACTIVE"})],
    )
    opened = []
    open_json = vault.Vault.open_json

    def counting(self, field, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(field)
        return open_json(self, field, **kwargs)

    monkeypatch.setattr(vault.Vault, "open_json", counting)
    wallet = citizen_wallet(citizen=citizen)
    first = wallet.records(source="youth", kind="membership")
    again = wallet.records(source="youth", kind="membership", include_ended=True)
    assert first == again and first[0].get("status") == "ACTIVE"
    assert opened == [RECORD_PAYLOAD]
