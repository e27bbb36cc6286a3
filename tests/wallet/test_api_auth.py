"""The bearer API: every bad token is a 401 (or 403 for a missing scope) with WWW-Authenticate,
never a 500; a good one reads the citizen's own data."""

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.demo import AINO, CONNECTOR_CLIENT_ID, WALLET_AUDIENCE, WALLET_CLI_CLIENT_ID
from sandbox.keys import key_id
from wallet.models import Citizen

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

ME_QUERY = "{ me { profile { firstName lastName email } } }"


def _claims(sandbox, **overrides):
    now = int(time.time())
    claims = {
        "iss": sandbox.issuer,
        "sub": str(AINO.sub),
        "aud": WALLET_AUDIENCE,
        "client_id": WALLET_CLI_CLIENT_ID,
        "scope": "openid profile email wallet",
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        "given_name": AINO.first_name,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _post(client, token, query=ME_QUERY):
    return client.post(
        "/graphql/",
        {"query": query},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_real_password_grant_token_reads_own_profile(client, sandbox):
    token = sandbox.password_token("aino")["access_token"]
    response = _post(client, token)
    assert response.status_code == 200, response.content
    profile = response.json()["data"]["me"]["profile"]
    assert profile == {
        "firstName": AINO.first_name,
        "lastName": AINO.last_name,
        "email": AINO.email,
    }
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies  # no CSRF cookie (nor any other) for a bearer call


def test_only_listed_clients_act_for_citizens(client, sandbox, settings):
    settings.WALLET_CITIZEN_CLIENT_IDS = [WALLET_CLI_CLIENT_ID]
    stranger = _claims(sandbox, client_id="some-other-app", sub=str(uuid.uuid4()))

    refused = _post(client, sandbox.sign_jwt(stranger))
    assert refused.status_code == 401
    assert "may not act for citizens" in refused["WWW-Authenticate"]
    assert not Citizen.objects.filter(subject=stranger["sub"]).exists()
    assert _post(client, sandbox.sign_jwt(_claims(sandbox))).status_code == 200


SYNC_MUTATION = "mutation { syncMyData { sources { source status } errors { code } } }"


def _refused_as_invalid_token(response) -> bool:
    return response.status_code == 401 and response["WWW-Authenticate"].startswith(
        'Bearer realm="oma-helsinki-wallet", error="invalid_token"'
    )


@pytest.mark.parametrize("listed", ["as configured", "empty"])
@pytest.mark.parametrize("query", [ME_QUERY, SYNC_MUTATION], ids=["me", "syncMyData"])
def test_connector_client_token_acts_for_no_citizen(client, sandbox, settings, listed, query):
    """The connectors' own client is neither a service nor a citizen's app: its token is refused,
    also when no client is listed (an empty list once meant "any client")."""
    if listed == "empty":
        settings.WALLET_CITIZEN_CLIENT_IDS = []
    token = sandbox.service_token(scope="wallet")["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["client_id"] == CONNECTOR_CLIENT_ID and WALLET_AUDIENCE in claims["aud"]

    response = _post(client, token, query)

    assert _refused_as_invalid_token(response), response.content
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert not Citizen.objects.filter(subject=claims["sub"]).exists()
    assert not Citizen.objects.exists()


def test_listed_client_reads_and_syncs_and_only_while_listed(client, sandbox, settings):
    assert WALLET_CLI_CLIENT_ID in settings.WALLET_CITIZEN_CLIENT_IDS  # var/dev.env lists it
    token = sandbox.password_token("aino")["access_token"]

    me = _post(client, token)
    sync = _post(client, token, SYNC_MUTATION)

    assert me.status_code == 200 and me.json()["data"]["me"]["profile"]["firstName"]
    assert sync.status_code == 200 and sync.json()["data"]["syncMyData"]["sources"], sync.content
    settings.WALLET_CITIZEN_CLIENT_IDS = []  # fail closed: no list, no citizen's app
    assert _refused_as_invalid_token(_post(client, token))


def test_session_graphql_still_gets_its_csrf_cookie(client, settings):
    response = client.get("/graphql/", {"query": "{ __typename }"}, HTTP_ACCEPT="application/json")
    assert settings.CSRF_COOKIE_NAME in response.cookies


def _other_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _bad_tokens(sandbox):
    sign = sandbox.sign_jwt
    kid = key_id(sandbox.signing_key_pem())
    public_pem = (
        serialization.load_pem_private_key(sandbox.signing_key_pem().encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    attacker = _other_key_pem()
    now = int(time.time())
    return {
        "expired": sign(_claims(sandbox, iat=now - 4000, exp=now - 3600)),
        "wrong audience": sign(_claims(sandbox, aud="some-other-api")),
        "wrong issuer": sign(_claims(sandbox, iss="http://127.0.0.1:9/idp")),
        "not yet valid": sign(_claims(sandbox, nbf=now + 3600)),
        "no expiry": sign(_claims(sandbox, exp=None)),
        "no subject": sign(_claims(sandbox, sub=None)),
        "no client": sign(_claims(sandbox, client_id=None)),
        "not an access token (ID token typ)": sign(_claims(sandbox), headers={"typ": "JWT"}),
        "bad signature (other key, same kid)": jwt.encode(
            _claims(sandbox), attacker, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"}
        ),
        "alg none": ".".join(
            [_b64({"alg": "none", "typ": "at+jwt", "kid": kid}), _b64(_claims(sandbox)), ""]
        ),
        "HS256 keyed with the public key": _hs256_with_public_key(
            _claims(sandbox), public_pem, kid
        ),
        "unknown kid": jwt.encode(
            _claims(sandbox), attacker, algorithm="RS256", headers={"kid": "nope", "typ": "at+jwt"}
        ),
        "jku pointing elsewhere": jwt.encode(
            _claims(sandbox),
            attacker,
            algorithm="RS256",
            headers={"kid": kid, "typ": "at+jwt", "jku": "http://127.0.0.1:9/jwks.json"},
        ),
        "unknown critical header": sign(
            _claims(sandbox), headers={"crit": ["x-unknown"], "x-unknown": 1}
        ),
        "tampered payload": _tamper(sign(_claims(sandbox))),
        "garbage": "not-a-jwt",
        # PyJWT converts exp/iat/nbf with int(): strings and booleans would pass it
        "exp as a string": sign(_claims(sandbox, exp=str(now + 300))),
        "iat as a string": sign(_claims(sandbox, iat=str(now))),
        "iat as a boolean": sign(_claims(sandbox, iat=True)),
        "nbf as a string": sign(_claims(sandbox, nbf=str(now - 10))),
        "nbf as a boolean": sign(_claims(sandbox, nbf=False)),
        "lives longer than the maximum": sign(_claims(sandbox, exp=now + 86400 + 60)),
        "expires before it was issued": sign(_claims(sandbox, iat=now + 20, exp=now + 10)),
    }


def _hs256_with_public_key(claims, public_pem: bytes, kid: str) -> str:
    import hashlib
    import hmac

    header = _b64({"alg": "HS256", "typ": "at+jwt", "kid": kid})
    body = _b64(claims)
    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _tamper(token: str) -> str:
    header, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = str(uuid.uuid4())
    return f"{header}.{_b64(claims)}.{signature}"


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "wrong audience",
        "wrong issuer",
        "not yet valid",
        "no expiry",
        "no subject",
        "no client",
        "not an access token (ID token typ)",
        "bad signature (other key, same kid)",
        "alg none",
        "HS256 keyed with the public key",
        "unknown kid",
        "jku pointing elsewhere",
        "unknown critical header",
        "tampered payload",
        "garbage",
        "exp as a string",
        "iat as a string",
        "iat as a boolean",
        "nbf as a string",
        "nbf as a boolean",
        "lives longer than the maximum",
        "expires before it was issued",
    ],
)
def test_bad_token_is_401_with_www_authenticate(client, sandbox, case):
    response = _post(client, _bad_tokens(sandbox)[case])
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith(
        'Bearer realm="oma-helsinki-wallet", error="invalid_token"'
    )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in body


def test_pyjwt_alone_accepts_time_claims_that_are_not_numbers(sandbox):
    """Why the wallet checks their types itself: PyJWT converts them with int()."""
    now = int(time.time())
    for odd in ({"exp": str(now + 300)}, {"iat": True}, {"nbf": str(now - 10)}):
        token = sandbox.sign_jwt(_claims(sandbox, **odd))
        key = jwt.PyJWKClient(sandbox.jwks_url).get_signing_key_from_jwt(token).key
        decoded = jwt.decode(token, key, algorithms=["RS256"], audience=WALLET_AUDIENCE)
        assert decoded[next(iter(odd))] == next(iter(odd.values()))


def test_longest_token_lifetime_is_a_setting(client, sandbox, settings):
    settings.WALLET_TOKEN_MAX_LIFETIME_SECONDS = 600
    assert _post(client, sandbox.sign_jwt(_claims(sandbox))).status_code == 200  # 300 s
    hour_long = sandbox.password_token("aino")["access_token"]
    response = _post(client, hour_long)
    assert response.status_code == 401
    assert "lifetime" in response["WWW-Authenticate"]


def test_token_without_the_api_scope_is_403_insufficient_scope(client, sandbox):
    response = _post(client, sandbox.sign_jwt(_claims(sandbox, scope="openid profile")))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer  ", "Token abc"])
def test_malformed_authorization_header_is_401(client, sandbox, header):
    response = client.post(
        "/graphql/", {"query": ME_QUERY}, content_type="application/json", HTTP_AUTHORIZATION=header
    )
    assert response.status_code == 401
    assert "invalid_token" in response["WWW-Authenticate"]


def test_bearer_request_ignores_the_session_cookie(client, sandbox):
    """A bad token with a valid session cookie is still refused: cookies do not count here."""
    from tests.factories import CitizenFactory

    client.force_login(CitizenFactory())
    response = _post(client, "not-a-jwt")
    assert response.status_code == 401


def _count_jwks_fetches(monkeypatch):
    from wallet.auth import bearer

    fetches = []
    jwks = bearer.jwks_client()
    original = jwks.fetch_data

    def counting_fetch():
        fetches.append(1)
        return original()

    monkeypatch.setattr(jwks, "fetch_data", counting_fetch)
    return fetches


def _unknown_kid_token(sandbox, kid="rotated"):
    return jwt.encode(
        _claims(sandbox), _other_key_pem(), algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"}
    )


def test_jwks_is_cached_and_an_unknown_kid_fetches_it_again(client, sandbox, settings, monkeypatch):
    settings.WALLET_JWKS_REFRESH_COOLDOWN_SECONDS = 0  # a key rotation is picked up at once
    token = sandbox.password_token("aino")["access_token"]
    assert _post(client, token).status_code == 200
    fetches = _count_jwks_fetches(monkeypatch)
    assert _post(client, token).status_code == 200
    assert fetches == []  # served from the cache
    assert _post(client, _unknown_kid_token(sandbox)).status_code == 401
    assert len(fetches) == 1  # one refresh looking for the new key, then refused


def test_made_up_kids_cannot_make_the_wallet_hammer_the_jwks_endpoint(client, sandbox, monkeypatch):
    token = sandbox.password_token("aino")["access_token"]
    assert _post(client, token).status_code == 200
    fetches = _count_jwks_fetches(monkeypatch)
    for n in range(5):
        assert _post(client, _unknown_kid_token(sandbox, kid=f"made-up-{n}")).status_code == 401
    assert len(fetches) == 0  # within the refresh cooldown after the first fetch
