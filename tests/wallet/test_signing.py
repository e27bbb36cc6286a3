"""The wallet's signing key: receipts signed as JWS verify against the JWKS it publishes, across
a key rotation; the JWKS carries public values only; a bad key stops start-up (wallet.E004)."""

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jwcrypto import jwk as jwcrypto_jwk

from wallet import checks, signing

RECEIPT = {
    "version": "KI-CR-v1.1.0",
    "jurisdiction": "FI",
    "consentTimestamp": 1767225600,
    "collectionMethod": "Oma.Helsinki wallet",
    "consentReceiptID": "c0ffee00-0000-4000-8000-000000000001",
    "piiPrincipalId": "11111111-1111-4111-8111-111111111111",
    "services": [{"service": "youth", "purposes": [{"purpose": "membership card"}]}],
}
EC_PUBLIC_MEMBERS = {"kty", "crv", "x", "y", "kid", "use", "alg"}
RSA_PUBLIC_MEMBERS = {"kty", "n", "e", "kid", "use", "alg"}
# RFC 7638 section 3.1: an RSA public key and its thumbprint.
RFC7638_RSA_JWK = {
    "kty": "RSA",
    "e": "AQAB",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
    "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q"
    "vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6We"
    "Zu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def _private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _public_pem(key) -> str:
    public = key if hasattr(key, "public_numbers") else key.public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _ec_pem() -> str:
    return _private_pem(ec.generate_private_key(ec.SECP256R1()))


EC_PEM = _ec_pem()


@pytest.fixture
def signing_key(settings) -> str:
    settings.WALLET_SIGNING_KEY = _ec_pem()
    settings.WALLET_SIGNING_RETIRED_KEYS_FILE = ""
    return settings.WALLET_SIGNING_KEY


def _fetch_jwks(client) -> jwt.PyJWKSet:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return jwt.PyJWKSet.from_dict(response.json())


def _verify_like_a_stranger(client, token: str) -> dict:
    """What anyone holding only the token and the wallet's URL does."""
    header = jwt.get_unverified_header(token)
    key = _fetch_jwks(client)[header["kid"]]
    return jwt.decode(token, key=key, algorithms=["ES256", "RS256"])


def _e004(**overrides) -> list[str]:
    with override_settings(**overrides):
        return [m.msg for m in checks.key_configuration() if m.id == "wallet.E004"]


def test_signed_receipt_verifies_against_the_jwks_served_over_http(client, signing_key):
    token = signing.jws_sign(RECEIPT)

    assert _verify_like_a_stranger(client, token) == RECEIPT
    assert signing.jws_verify(token) == RECEIPT
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": signing.current_key().published.kid, "typ": "JWT"}


def test_jwks_endpoint_is_public_cacheable_and_read_only(client, signing_key):
    response = client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwk-set+json"
    assert response["Cache-Control"] == "public, max-age=300"
    assert client.head("/.well-known/jwks.json").status_code == 200
    assert client.post("/.well-known/jwks.json").status_code == 405


def test_tampered_payload_does_not_verify(client, signing_key):
    header, _, signature = signing.jws_sign(RECEIPT).split(".")
    forged = dict(RECEIPT, piiPrincipalId="22222222-2222-4222-8222-222222222222")
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    token = f"{header}.{forged_payload}.{signature}"

    with pytest.raises(jwt.InvalidSignatureError):
        _verify_like_a_stranger(client, token)
    with pytest.raises(signing.SignatureError, match="signature does not verify"):
        signing.jws_verify(token)


def test_retired_key_still_verifies_while_the_new_key_signs(client, settings, tmp_path):
    old_key = ec.generate_private_key(ec.SECP256R1())
    settings.WALLET_SIGNING_KEY = _private_pem(old_key)
    old_token = signing.jws_sign(RECEIPT)

    # rotation: a new current key, the old one's public half kept in the retired-keys file
    retired = tmp_path / "retired.pem"
    retired.write_text(_public_pem(old_key))
    settings.WALLET_SIGNING_KEY = _ec_pem()
    settings.WALLET_SIGNING_RETIRED_KEYS_FILE = str(retired)
    new_token = signing.jws_sign(RECEIPT)

    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_kid = jwt.get_unverified_header(new_token)["kid"]
    assert old_kid != new_kid
    assert [key.key_id for key in _fetch_jwks(client).keys] == [new_kid, old_kid]
    for token in (old_token, new_token):
        assert _verify_like_a_stranger(client, token) == RECEIPT
        assert signing.jws_verify(token) == RECEIPT


def test_key_dropped_from_the_jwks_no_longer_verifies(settings):
    settings.WALLET_SIGNING_KEY = _ec_pem()
    token = signing.jws_sign(RECEIPT)
    settings.WALLET_SIGNING_KEY = _ec_pem()

    with pytest.raises(signing.SignatureError, match="not published"):
        signing.jws_verify(token)


def test_verify_takes_the_algorithm_from_the_key_not_the_token(signing_key):
    kid = signing.current_key().published.kid
    # an HMAC token "signed" with the public key: the classic algorithm-confusion forgery
    public_pem = _public_pem(signing.current_key().private_key).encode()
    forged = jwt.api_jws.PyJWS(algorithms=None).encode(
        json.dumps(RECEIPT).encode(),
        key=base64.b64encode(public_pem).decode(),
        algorithm="HS256",
        headers={"kid": kid},
    )

    with pytest.raises(signing.SignatureError, match="algorithm does not match"):
        signing.jws_verify(forged)
    with pytest.raises(signing.SignatureError, match="not a compact JWS"):
        signing.jws_verify("not-a-token")


def test_rsa_key_signs_rs256(client, settings):
    settings.WALLET_SIGNING_KEY = _private_pem(
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    token = signing.jws_sign(RECEIPT)

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert _verify_like_a_stranger(client, token) == RECEIPT


def test_jwks_carries_no_private_parameters(client, settings, tmp_path):
    retired = tmp_path / "retired.pem"
    retired.write_text(_public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    settings.WALLET_SIGNING_KEY = _ec_pem()
    settings.WALLET_SIGNING_RETIRED_KEYS_FILE = str(retired)

    ec_key, rsa_key = client.get("/.well-known/jwks.json").json()["keys"]

    assert set(ec_key) == EC_PUBLIC_MEMBERS
    assert set(rsa_key) == RSA_PUBLIC_MEMBERS
    assert (ec_key["use"], ec_key["alg"], ec_key["crv"]) == ("sig", "ES256", "P-256")
    assert (rsa_key["use"], rsa_key["alg"]) == ("sig", "RS256")


def test_kid_is_the_rfc7638_thumbprint(settings, tmp_path):
    # an RSA key: the RFC's own example; an EC key: computed independently by jwcrypto
    retired = tmp_path / "retired.pem"
    rfc_key = jwt.algorithms.RSAAlgorithm.from_jwk(RFC7638_RSA_JWK)
    retired.write_text(_public_pem(rfc_key))
    settings.WALLET_SIGNING_KEY = EC_PEM
    settings.WALLET_SIGNING_RETIRED_KEYS_FILE = str(retired)

    current_kid, retired_kid = (key["kid"] for key in signing.jwks()["keys"])

    assert retired_kid == RFC7638_THUMBPRINT
    assert current_kid == jwcrypto_jwk.JWK.from_pem(EC_PEM.encode()).thumbprint()


def test_key_material_stays_out_of_reprs_and_errors(signing_key):
    body = signing_key.splitlines()[1]
    assert body not in repr(signing.current_key())
    assert "private_key" not in repr(signing.current_key())

    broken = signing_key.replace(body, body[::-1])
    [message] = _e004(WALLET_SIGNING_KEY=broken)
    assert body[::-1] not in message


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "WALLET_SIGNING_KEY (or WALLET_SIGNING_KEY_FILE) is not set"),
        ("garbage", "not an unencrypted PEM private key"),
        (_public_pem(ec.generate_private_key(ec.SECP256R1())), "holds a public key"),
        (_private_pem(ec.generate_private_key(ec.SECP384R1())), "must be on P-256"),
        (
            _private_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
            "at least 2048 bits",
        ),
    ],
)
def test_missing_or_unusable_signing_key_is_e004(key, message):
    [error] = _e004(WALLET_SIGNING_KEY=key, WALLET_SIGNING_RETIRED_KEYS_FILE="")
    assert message in error


def test_unreadable_or_bad_retired_keys_file_is_e004(tmp_path):
    private_in_file = tmp_path / "private.pem"
    private_in_file.write_text(EC_PEM)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")

    for path, message in [
        (tmp_path / "missing.pem", "cannot be read"),
        (private_in_file, "entry 1 is a private key"),
        (garbage, "text outside PEM blocks"),
    ]:
        [error] = _e004(WALLET_SIGNING_KEY=EC_PEM, WALLET_SIGNING_RETIRED_KEYS_FILE=str(path))
        assert message in error


def test_good_keys_pass_the_check(tmp_path):
    retired = tmp_path / "retired.pem"
    retired.write_text("")  # zero retired keys is fine

    assert _e004(WALLET_SIGNING_KEY=EC_PEM, WALLET_SIGNING_RETIRED_KEYS_FILE=str(retired)) == []


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)
# registered claim names are validated by JWT libraries; receipts do not use them
RECEIPT_KEYS = st.text().filter(
    lambda k: k not in {"exp", "nbf", "iat", "aud", "iss", "sub", "jti"}
)


@hypothesis_settings(max_examples=50, deadline=None)
@given(payload=st.dictionaries(RECEIPT_KEYS, JSON_VALUES, max_size=10))
def test_any_json_payload_round_trips(payload):
    with override_settings(WALLET_SIGNING_KEY=EC_PEM, WALLET_SIGNING_RETIRED_KEYS_FILE=""):
        assert signing.jws_verify(signing.jws_sign(payload)) == payload


def test_one_line_pem_with_escaped_newlines_is_accepted():
    one_line = EC_PEM.strip().replace("\n", "\\n")  # as container env files often carry it

    assert _e004(WALLET_SIGNING_KEY=one_line, WALLET_SIGNING_RETIRED_KEYS_FILE="") == []
