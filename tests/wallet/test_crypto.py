"""Envelope encryption: what must open, and what must not."""

import base64
import os
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st

from wallet import crypto

CITIZEN = uuid.UUID("11111111-1111-4111-8111-111111111111")
OTHER_CITIZEN = uuid.UUID("22222222-2222-4222-8222-222222222222")


def _cipher(citizen_id=CITIZEN, key=b"k" * 32, generation=1):
    return crypto.CitizenCipher(citizen_id=citizen_id, generation=generation, data_key=key)


def _kek_spec(*versions: int) -> str:
    return ",".join(f"{v}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}" for v in versions)


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=5000))
def test_any_unicode_value_round_trips(value):
    cipher = _cipher()
    sealed = cipher.seal(table="t", row_id=1, field="f", plaintext=value.encode())
    assert cipher.open(table="t", row_id=1, field="f", ciphertext=sealed).decode() == value


@settings(max_examples=50, deadline=None)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=30,
    )
)
def test_json_values_round_trip(value):
    cipher = _cipher()
    sealed = cipher.seal_json(table="t", row_id="r", field="payload", value=value)
    assert cipher.open_json(table="t", row_id="r", field="payload", ciphertext=sealed) == value


def test_same_value_seals_differently_each_time():
    cipher = _cipher()
    first = cipher.seal(table="t", row_id=1, field="f", plaintext=b"Aino")
    second = cipher.seal(table="t", row_id=1, field="f", plaintext=b"Aino")
    assert first != second
    assert b"Aino" not in first


def test_flipped_bit_fails_clearly():
    cipher = _cipher()
    sealed = bytearray(cipher.seal(table="t", row_id=1, field="f", plaintext=b"secret value"))
    sealed[-5] ^= 0x01
    with pytest.raises(crypto.DecryptionError, match="does not open"):
        cipher.open(table="t", row_id=1, field="f", ciphertext=bytes(sealed))


@pytest.mark.parametrize(
    "where",
    [
        {"table": "other_table", "row_id": 1, "field": "f"},
        {"table": "t", "row_id": 2, "field": "f"},
        {"table": "t", "row_id": 1, "field": "other_field"},
    ],
)
def test_ciphertext_moved_to_another_table_row_or_field_fails(where):
    cipher = _cipher()
    sealed = cipher.seal(table="t", row_id=1, field="f", plaintext=b"value")
    with pytest.raises(crypto.DecryptionError):
        cipher.open(ciphertext=sealed, **where)


def test_ciphertext_moved_to_another_citizen_fails_even_with_the_same_key():
    sealed = _cipher(CITIZEN).seal(table="t", row_id=1, field="f", plaintext=b"value")
    with pytest.raises(crypto.DecryptionError):
        _cipher(OTHER_CITIZEN).open(table="t", row_id=1, field="f", ciphertext=sealed)


def test_ciphertext_from_an_older_data_key_generation_fails():
    sealed = _cipher(generation=1).seal(table="t", row_id=1, field="f", plaintext=b"value")
    with pytest.raises(crypto.DecryptionError):
        _cipher(generation=2).open(table="t", row_id=1, field="f", ciphertext=sealed)


def test_truncated_or_unknown_format_fails_clearly():
    cipher = _cipher()
    with pytest.raises(crypto.DecryptionError, match="unknown format"):
        cipher.open(table="t", row_id=1, field="f", ciphertext=b"\x02" + b"x" * 40)
    with pytest.raises(crypto.DecryptionError, match="unknown format"):
        cipher.open(table="t", row_id=1, field="f", ciphertext=b"\x01short")


def test_data_key_wraps_under_newest_kek_and_unwraps(settings):
    settings.WALLET_KEKS = _kek_spec(1, 3, 2)
    data_key = crypto.data_key_generate()
    version, wrapped = crypto.data_key_wrap(data_key=data_key, citizen_id=CITIZEN, generation=1)
    assert version == 3
    assert data_key not in wrapped
    assert (
        crypto.data_key_unwrap(wrapped=wrapped, kek_version=3, citizen_id=CITIZEN, generation=1)
        == data_key
    )


def test_wrapped_key_of_one_citizen_does_not_unwrap_for_another(settings):
    settings.WALLET_KEKS = _kek_spec(1)
    _, wrapped = crypto.data_key_wrap(
        data_key=crypto.data_key_generate(), citizen_id=CITIZEN, generation=1
    )
    with pytest.raises(crypto.DecryptionError):
        crypto.data_key_unwrap(
            wrapped=wrapped, kek_version=1, citizen_id=OTHER_CITIZEN, generation=1
        )


def test_wrong_kek_fails_clearly(settings):
    settings.WALLET_KEKS = _kek_spec(1)
    _, wrapped = crypto.data_key_wrap(
        data_key=crypto.data_key_generate(), citizen_id=CITIZEN, generation=1
    )
    settings.WALLET_KEKS = _kek_spec(1)  # same version number, different key
    with pytest.raises(crypto.DecryptionError):
        crypto.data_key_unwrap(wrapped=wrapped, kek_version=1, citizen_id=CITIZEN, generation=1)


def test_missing_kek_version_fails_clearly(settings):
    settings.WALLET_KEKS = _kek_spec(2)
    with pytest.raises(crypto.MissingKeyError, match="version 1 is not configured"):
        crypto.data_key_unwrap(
            wrapped=b"\x01" + b"x" * 60, kek_version=1, citizen_id=CITIZEN, generation=1
        )


@pytest.mark.parametrize("generation", [1, 9, 123456])
def test_rewrapper_wraps_as_data_key_wrap_does_and_opens_what_it_wrapped(settings, generation):
    settings.WALLET_KEKS = _kek_spec(1)
    data_key = crypto.data_key_generate()
    _, wrapped = crypto.data_key_wrap(data_key=data_key, citizen_id=CITIZEN, generation=generation)
    settings.WALLET_KEKS += "," + _kek_spec(7)
    rewrapper = crypto.KekRewrapper()

    rewrapped = rewrapper.rewrap(
        wrapped=wrapped, kek_version=1, citizen_id=CITIZEN, generation=generation
    )

    assert rewrapper.version == 7 and rewrapped != wrapped
    assert (
        crypto.data_key_unwrap(
            wrapped=rewrapped, kek_version=7, citizen_id=CITIZEN, generation=generation
        )
        == data_key
    )


def test_rewrapper_never_repeats_a_nonce_across_its_refills(settings):
    settings.WALLET_KEKS = _kek_spec(1)
    _, wrapped = crypto.data_key_wrap(
        data_key=crypto.data_key_generate(), citizen_id=CITIZEN, generation=1
    )
    settings.WALLET_KEKS += "," + _kek_spec(2)
    rewrapper = crypto.KekRewrapper()
    nonces = {
        rewrapper.rewrap(wrapped=wrapped, kek_version=1, citizen_id=CITIZEN, generation=1)[
            1 : 1 + crypto.NONCE_BYTES
        ]
        for _ in range(9000)  # more than two draws of nonces from the OS
    }
    assert len(nonces) == 9000 and all(len(n) == crypto.NONCE_BYTES for n in nonces)


def test_rewrapper_checks_the_associated_data_of_every_key(settings):
    settings.WALLET_KEKS = _kek_spec(1)
    _, wrapped = crypto.data_key_wrap(
        data_key=crypto.data_key_generate(), citizen_id=CITIZEN, generation=3
    )
    settings.WALLET_KEKS += "," + _kek_spec(2)
    rewrapper = crypto.KekRewrapper()
    for citizen_id, generation, version in (
        (OTHER_CITIZEN, 3, 1),  # another citizen's key
        (CITIZEN, 2, 1),  # another generation's
    ):
        with pytest.raises(crypto.DecryptionError):
            rewrapper.rewrap(
                wrapped=wrapped, kek_version=version, citizen_id=citizen_id, generation=generation
            )
    with pytest.raises(crypto.MissingKeyError):
        rewrapper.rewrap(wrapped=wrapped, kek_version=5, citizen_id=CITIZEN, generation=3)
    rewrapped = rewrapper.rewrap(wrapped=wrapped, kek_version=1, citizen_id=CITIZEN, generation=3)
    assert crypto.data_key_unwrap(
        wrapped=rewrapped, kek_version=2, citizen_id=CITIZEN, generation=3
    ) == crypto.data_key_unwrap(wrapped=wrapped, kek_version=1, citizen_id=CITIZEN, generation=3)


@pytest.mark.parametrize(
    "spec", ["", "1", "x:abc", "1:not-base64!!", "1:" + base64.urlsafe_b64encode(b"short").decode()]
)
def test_bad_kek_configuration_is_refused(spec):
    with pytest.raises(ImproperlyConfigured):
        crypto.SettingsKekProvider(spec)


def test_blind_index_is_keyed_normalized_and_purpose_bound(settings):
    a = crypto.blind_index(purpose="email", value=" Aino.Virtanen@Example.com ")
    assert a == crypto.blind_index(purpose="email", value="aino.virtanen@example.com")
    assert a != crypto.blind_index(purpose="barcode", value="aino.virtanen@example.com")
    settings.WALLET_INDEX_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
    assert a != crypto.blind_index(purpose="email", value="aino.virtanen@example.com")


def test_keks_can_come_from_one_file_per_version(tmp_path):
    keys = {v: base64.urlsafe_b64encode(os.urandom(32)).decode() for v in (1, 2)}
    for version, key in keys.items():
        (tmp_path / f"kek-{version}").write_text(key + "\n")
    provider = crypto.SettingsKekProvider("", str(tmp_path))
    assert provider.versions() == [1, 2]
    assert provider.current().version == 2
    combined = crypto.SettingsKekProvider(
        f"3:{base64.urlsafe_b64encode(os.urandom(32)).decode()}", str(tmp_path)
    )
    assert combined.versions() == [1, 2, 3]


def test_one_kek_version_with_two_different_keys_is_refused(tmp_path):
    (tmp_path / "kek-1").write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    with pytest.raises(ImproperlyConfigured, match="configured twice"):
        crypto.SettingsKekProvider(_kek_spec(1), str(tmp_path))


def test_kek_file_with_a_bad_name_is_refused(tmp_path):
    (tmp_path / "kek-latest").write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    with pytest.raises(ImproperlyConfigured, match="not kek-<version>"):
        crypto.SettingsKekProvider("", str(tmp_path))
