"""The provider's RSA signing key: made on first use under var/, never committed.

Kept free of Django imports so that the harness (and tests) can sign tokens with the key
of a sandbox they started.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk

KEY_FILE_NAME = "sandbox-oidc-key.pem"


def load_or_create_private_key(path: Path) -> str:
    """Return the PEM at ``path``, creating a 2048-bit RSA key there (mode 0600) if missing.

    Race-safe: the key is written to a temporary file and hard-linked into place, which fails
    if another process got there first; then everyone reads the one file that won. (A plain
    ``os.replace`` would let a late writer swap the key under a process that already loaded
    the first one.)
    """
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".oidc-key-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(tmp_name, path)
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system: last writer wins
            os.replace(tmp_name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    return path.read_text()


@functools.lru_cache(maxsize=8)
def key_id(private_pem: str) -> str:
    """The ``kid`` of a key: its RFC 7638 thumbprint, as django-oauth-toolkit's JWKS publishes."""
    return jwk.JWK.from_pem(private_pem.encode()).thumbprint()


@functools.lru_cache(maxsize=8)
def load_private_key(private_pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key
