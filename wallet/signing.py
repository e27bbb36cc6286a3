"""The wallet's own signing key: compact JWS over consent receipts, and the JWKS that verifies them.

- The current key is a PEM private key in `WALLET_SIGNING_KEY`: EC P-256 (ES256, the default) or
  RSA of at least 2048 bits (RS256). The algorithm follows from the key type.
- `WALLET_SIGNING_RETIRED_KEYS_FILE` holds the PEM public keys of retired signing keys; they stay
  published at `/.well-known/jwks.json` so receipts signed before a rotation keep verifying.
- A key's `kid` is its RFC 7638 JWK thumbprint (base64url SHA-256).

Key material never appears in a repr, a log line or an error message.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

RSA_MIN_BITS = 2048
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class SignatureError(Exception):
    """A token that does not verify; the message says why without quoting the token."""


@dataclass(frozen=True)
class PublishedKey:
    """A public key as published in the JWKS."""

    kid: str
    alg: str
    members: dict[str, str]  # the JWK's required members (RFC 7638), public values only
    public_key: PublicKey = field(repr=False)

    def jwk(self) -> dict[str, str]:
        return {**self.members, "kid": self.kid, "use": "sig", "alg": self.alg}


@dataclass(frozen=True)
class SigningKey:
    published: PublishedKey
    private_key: PrivateKey = field(repr=False)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_bytes(value: int, length: int | None = None) -> bytes:
    return value.to_bytes(length or (value.bit_length() + 7) // 8, "big")


def _published(public_key: object, *, where: str) -> PublishedKey:
    """The JWK of a supported public key, with its thumbprint as `kid`."""
    members: dict[str, str]
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise ImproperlyConfigured(f"{where}: EC keys must be on P-256")
        numbers = public_key.public_numbers()
        members = {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64url(_int_bytes(numbers.x, 32)),
            "y": _b64url(_int_bytes(numbers.y, 32)),
        }
        alg = "ES256"
    elif isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < RSA_MIN_BITS:
            raise ImproperlyConfigured(f"{where}: RSA keys must have at least {RSA_MIN_BITS} bits")
        rsa_numbers = public_key.public_numbers()
        members = {
            "e": _b64url(_int_bytes(rsa_numbers.e)),
            "kty": "RSA",
            "n": _b64url(_int_bytes(rsa_numbers.n)),
        }
        alg = "RS256"
    else:
        raise ImproperlyConfigured(f"{where}: only EC P-256 and RSA keys are supported")
    # RFC 7638: the required members only, in lexicographic order, no whitespace.
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    kid = _b64url(hashlib.sha256(canonical).digest())
    return PublishedKey(kid=kid, alg=alg, members=members, public_key=public_key)


@functools.cache
def _current_key(pem: str) -> SigningKey:
    where = "WALLET_SIGNING_KEY"
    if not pem:
        raise ImproperlyConfigured(
            f"{where} (or {where}_FILE) is not set or cannot be read; "
            "for local development run `make venv`"
        )
    pem = pem.replace("\\n", "\n")  # a PEM given in one line, with "\n" escapes
    if "PUBLIC KEY-----" in pem:
        raise ImproperlyConfigured(f"{where} holds a public key; it must be the private key")
    try:
        private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # from None: the parser's own message is not needed and must not carry key text along
        raise ImproperlyConfigured(f"{where} is not an unencrypted PEM private key") from None
    if not isinstance(private_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ImproperlyConfigured(f"{where}: only EC P-256 and RSA keys are supported")
    return SigningKey(_published(private_key.public_key(), where=where), private_key)


@functools.cache
def _retired_keys(path: str) -> tuple[PublishedKey, ...]:
    where = "WALLET_SIGNING_RETIRED_KEYS_FILE"
    if not path:
        return ()
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError):
        raise ImproperlyConfigured(f"{where} {path} cannot be read") from None
    if _PEM_BLOCK.sub("", text).strip():
        raise ImproperlyConfigured(f"{where} holds text outside PEM blocks")
    keys = []
    for number, block in enumerate(_PEM_BLOCK.finditer(text), start=1):
        if "PRIVATE" in block.group(1):
            raise ImproperlyConfigured(
                f"{where}: entry {number} is a private key, not a public one"
            )
        try:
            public_key = serialization.load_pem_public_key(block.group(0).encode())
        except (ValueError, UnsupportedAlgorithm):
            raise ImproperlyConfigured(f"{where}: entry {number} is not a PEM public key") from None
        keys.append(_published(public_key, where=f"{where} entry {number}"))
    return tuple(keys)


def current_key() -> SigningKey:
    """The key new signatures are made with; ImproperlyConfigured when missing or unusable."""
    return _current_key(settings.WALLET_SIGNING_KEY)


def retired_keys() -> tuple[PublishedKey, ...]:
    """Public keys of retired signing keys, still published; ImproperlyConfigured when the file
    is set but unusable."""
    return _retired_keys(settings.WALLET_SIGNING_RETIRED_KEYS_FILE)


def _published_keys() -> dict[str, PublishedKey]:
    keys = {key.kid: key for key in retired_keys()}
    current = current_key().published
    return {current.kid: current, **{k: v for k, v in keys.items() if k != current.kid}}


def jwks() -> dict[str, list[dict[str, str]]]:
    """The public JWK Set: the current key first, then the retired ones."""
    return {"keys": [key.jwk() for key in _published_keys().values()]}


def jws_sign(payload: dict[str, Any]) -> str:
    """A compact JWS of `payload` under the current key (header: alg, kid, typ JWT)."""
    key = current_key()
    return jwt.encode(
        payload,
        key.private_key,
        algorithm=key.published.alg,
        headers={"kid": key.published.kid, "typ": "JWT"},
    )


def jws_verify(token: str) -> dict[str, Any]:
    """The payload of a JWS made by any published key; SignatureError otherwise.

    The key is chosen by `kid` and must match the header's `alg` (no alg from the token is
    trusted on its own). Audience is not checked: receipts are not addressed to one party.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise SignatureError("not a compact JWS") from None
    kid = header.get("kid")
    key = _published_keys().get(kid) if isinstance(kid, str) else None
    if key is None:
        raise SignatureError("signed by a key that is not published")
    if header.get("alg") != key.alg:
        raise SignatureError("algorithm does not match the key")
    try:
        payload: dict[str, Any] = jwt.decode(
            token, key.public_key, algorithms=[key.alg], options={"verify_aud": False}
        )
    except jwt.InvalidSignatureError:
        raise SignatureError("signature does not verify") from None
    except jwt.InvalidTokenError as exc:
        raise SignatureError(f"token rejected ({type(exc).__name__})") from None
    return payload
