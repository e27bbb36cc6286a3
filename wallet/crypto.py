"""Envelope encryption: per-citizen data keys wrapped by versioned key-encryption keys (KEKs).

- A citizen's data key is 32 random bytes (AES-256-GCM). It is stored only wrapped by a KEK; the
  KEK lives outside the database and comes through a `KekProvider`.
- Every personal value is sealed under the data key with a fresh 96-bit nonce and associated data
  naming (citizen, table, row, field, data-key generation), so a ciphertext moved anywhere else
  fails to open.
- Exact-match look-ups use blind indexes: HMAC-SHA256 under a key derived per purpose from a
  separate index key, never from an encryption key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

NONCE_BYTES = 12
KEY_BYTES = 32
# First byte of every ciphertext: lets the format change later without guessing.
CIPHERTEXT_FORMAT = b"\x01"


class CryptoError(Exception):
    """Base class; messages never contain key material or plaintext."""


class DecryptionError(CryptoError):
    pass


class MissingKeyError(CryptoError):
    pass


@dataclass(frozen=True)
class Kek:
    version: int
    key: bytes

    def __repr__(self) -> str:  # keep key bytes out of tracebacks and logs
        return f"Kek(version={self.version})"


class KekProvider(Protocol):
    """Where key-encryption keys come from: settings here, a KMS or an HSM later."""

    def current(self) -> Kek: ...

    def get(self, version: int) -> Kek: ...

    def versions(self) -> list[int]: ...


def _decode_key(text: str, *, where: str) -> bytes:
    text = text.strip()
    try:
        key = base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{where}: not base64") from exc
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{where}: key must be {KEY_BYTES} bytes")
    return key


class SettingsKekProvider:
    """KEKs from settings: `WALLET_KEKS` ("version:base64url-key" entries, comma separated)
    and/or `WALLET_KEK_DIR` (one file per version, named `kek-<version>`, holding the key)."""

    FILE_PREFIX = "kek-"

    def __init__(self, spec: str = "", directory: str = "") -> None:
        self._keks: dict[int, Kek] = {}
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            version_text, sep, key_text = entry.partition(":")
            if not sep or not version_text.isdigit():
                raise ImproperlyConfigured("WALLET_KEKS entries must look like 'version:base64key'")
            self._add(
                int(version_text),
                _decode_key(key_text, where=f"WALLET_KEKS version {version_text}"),
            )
        if directory:
            folder = Path(directory)
            if not folder.is_dir():
                raise ImproperlyConfigured(f"WALLET_KEK_DIR {directory} is not a directory")
            for path in sorted(folder.glob(f"{self.FILE_PREFIX}*")):
                version_text = path.name.removeprefix(self.FILE_PREFIX)
                if not version_text.isdigit():
                    raise ImproperlyConfigured(f"WALLET_KEK_DIR: {path.name} is not kek-<version>")
                self._add(
                    int(version_text),
                    _decode_key(path.read_text(), where=f"WALLET_KEK_DIR {path.name}"),
                )
        if not self._keks:
            raise ImproperlyConfigured("no key-encryption key: set WALLET_KEKS or WALLET_KEK_DIR")

    def _add(self, version: int, key: bytes) -> None:
        existing = self._keks.get(version)
        if existing is not None and existing.key != key:
            raise ImproperlyConfigured(
                f"KEK version {version} is configured twice with different keys"
            )
        self._keks[version] = Kek(version, key)

    def current(self) -> Kek:
        return self._keks[max(self._keks)]

    def get(self, version: int) -> Kek:
        try:
            return self._keks[version]
        except KeyError:
            raise MissingKeyError(
                f"key-encryption key version {version} is not configured"
            ) from None

    def versions(self) -> list[int]:
        return sorted(self._keks)


@functools.cache
def _provider_for(provider_path: str, spec: str, directory: str) -> KekProvider:
    provider_class = import_string(provider_path)
    provider: KekProvider = provider_class(spec, directory)
    return provider


def kek_provider() -> KekProvider:
    """The configured provider (`WALLET_KEK_PROVIDER`, a dotted path; a KMS-backed one only
    has to implement `KekProvider`)."""
    return _provider_for(
        settings.WALLET_KEK_PROVIDER, settings.WALLET_KEKS, settings.WALLET_KEK_DIR
    )


def _associated_data(*parts: object) -> bytes:
    # Length-prefixed parts stay unambiguous: ("a|b", "c") never equals ("a", "b|c").
    return "".join(f"{len(text)}:{text}" for text in map(str, parts)).encode()


def _seal(aead: AESGCM, plaintext: bytes, aad: bytes, nonce: bytes | None = None) -> bytes:
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    return CIPHERTEXT_FORMAT + nonce + aead.encrypt(nonce, plaintext, aad)


_MIN_CIPHERTEXT = 1 + NONCE_BYTES + 16  # format byte, nonce, GCM tag


def _open(aead: AESGCM, ciphertext: bytes | memoryview, aad: bytes) -> bytes:
    if not isinstance(ciphertext, bytes):  # PostgreSQL hands BinaryField values over as memoryview
        ciphertext = bytes(ciphertext)
    if len(ciphertext) < _MIN_CIPHERTEXT or ciphertext[0] != CIPHERTEXT_FORMAT[0]:
        raise DecryptionError("ciphertext has an unknown format")
    try:
        return aead.decrypt(ciphertext[1 : 1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise DecryptionError(
            "ciphertext does not open: altered, moved to another row, or wrong key"
        ) from None


@functools.lru_cache(maxsize=16)
def _kek_aead(key: bytes) -> AESGCM:
    # One AESGCM per KEK, not one per wrap: rotation wraps and unwraps every key in a loop.
    return AESGCM(key)


def data_key_generate() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def data_key_wrap(*, data_key: bytes, citizen_id: UUID, generation: int) -> tuple[int, bytes]:
    """Wrap under the newest KEK; returns (kek version, wrapped key)."""
    kek = kek_provider().current()
    aad = _associated_data("data-key", citizen_id, generation, kek.version)
    return kek.version, _seal(_kek_aead(kek.key), data_key, aad)


def data_key_unwrap(
    *, wrapped: bytes, kek_version: int, citizen_id: UUID, generation: int
) -> bytes:
    kek = kek_provider().get(kek_version)
    aad = _associated_data("data-key", citizen_id, generation, kek_version)
    return _open(_kek_aead(kek.key), wrapped, aad)


class KekRewrapper:
    """Re-wraps data keys under the newest KEK, for a rotation's loop over every citizen: the
    KEKs are looked up and their AESGCM objects made once, not once a key. Each unwrap checks
    the associated data (citizen, generation, KEK version) exactly as `data_key_unwrap` does."""

    _LABEL = _associated_data("data-key").decode()

    def __init__(self, provider: KekProvider | None = None) -> None:
        self._provider = provider or kek_provider()
        current = self._provider.current()
        self.version = current.version
        self._wrap = AESGCM(current.key)
        self._wrap_suffix = _associated_data(current.version).decode()
        self._unwrap: dict[int, tuple[AESGCM, str]] = {}
        # Fresh random nonces drawn from the OS a few thousand at a time, not one call a key.
        self._nonces, self._nonce_at = b"", 0

    def _nonce(self) -> bytes:
        if self._nonce_at == len(self._nonces):
            self._nonces, self._nonce_at = os.urandom(NONCE_BYTES * 4096), 0
        start, self._nonce_at = self._nonce_at, self._nonce_at + NONCE_BYTES
        return self._nonces[start : self._nonce_at]

    def _opener(self, kek_version: int) -> tuple[AESGCM, str]:
        opener = self._unwrap.get(kek_version)
        if opener is None:  # MissingKeyError for a version not configured
            kek = self._provider.get(kek_version)
            opener = self._unwrap[kek_version] = (
                AESGCM(kek.key),
                _associated_data(kek_version).decode(),
            )
        return opener

    def rewrap(
        self, *, wrapped: bytes, kek_version: int, citizen_id: object, generation: int
    ) -> bytes:
        """The same data key wrapped under the newest KEK (`version`); DecryptionError if the
        wrapped key does not open as this citizen's key of this generation."""
        aead, suffix = self._opener(kek_version)
        # _associated_data("data-key", citizen_id, generation, version), the shared part once
        citizen, gen = str(citizen_id), str(generation)
        shared = f"{self._LABEL}{len(citizen)}:{citizen}{len(gen)}:{gen}"
        data_key = _open(aead, wrapped, (shared + suffix).encode())
        return _seal(self._wrap, data_key, (shared + self._wrap_suffix).encode(), self._nonce())


@functools.cache
def _table_field(table: str, field: str) -> bytes:
    return _associated_data(table, field)


class CitizenCipher:
    """One citizen's unwrapped data key, for the length of one request or one task."""

    def __init__(self, *, citizen_id: UUID, generation: int, data_key: bytes) -> None:
        self.citizen_id = citizen_id
        self.generation = generation
        self._aead = AESGCM(data_key)
        # The citizen and generation are the same for every value: encode them once.
        self._aad_prefix = _associated_data("value", citizen_id, generation)

    def __repr__(self) -> str:
        return f"CitizenCipher(citizen_id={self.citizen_id}, generation={self.generation})"

    def _aad(self, table: str, row_id: object, field: str) -> bytes:
        # Every part before the row id is length-prefixed, so the row id can simply end it.
        row = row_id.bytes if isinstance(row_id, UUID) else str(row_id).encode()
        return self._aad_prefix + _table_field(table, field) + row

    def seal(self, *, table: str, row_id: object, field: str, plaintext: bytes) -> bytes:
        return _seal(self._aead, plaintext, self._aad(table, row_id, field))

    def open(
        self, *, table: str, row_id: object, field: str, ciphertext: bytes | memoryview
    ) -> bytes:
        return _open(self._aead, ciphertext, self._aad(table, row_id, field))

    def seal_json(self, *, table: str, row_id: object, field: str, value: Any) -> bytes:
        plaintext = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        return self.seal(table=table, row_id=row_id, field=field, plaintext=plaintext.encode())

    def open_json(
        self, *, table: str, row_id: object, field: str, ciphertext: bytes | memoryview
    ) -> Any:
        return json.loads(self.open(table=table, row_id=row_id, field=field, ciphertext=ciphertext))


@functools.cache
def _index_key(index_key_spec: str, purpose: str) -> bytes:
    raw = base64.urlsafe_b64decode(index_key_spec.encode() + b"=" * (-len(index_key_spec) % 4))
    if len(raw) < KEY_BYTES:
        raise ImproperlyConfigured(f"WALLET_INDEX_KEY must be at least {KEY_BYTES} bytes")
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"blind-index:{purpose}".encode()
    )
    return hkdf.derive(raw)


def normalize_for_index(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


def blind_index(*, purpose: str, value: str) -> str:
    """Hex HMAC-SHA256 of the normalized value under the index key derived for `purpose`."""
    key = _index_key(settings.WALLET_INDEX_KEY, purpose)
    return hmac.new(key, normalize_for_index(value).encode(), hashlib.sha256).hexdigest()


def content_digest(*, purpose: str, value: Any) -> str:
    """Keyed digest of a JSON value: detects change without a dictionary-guessable plain hash."""
    key = _index_key(settings.WALLET_INDEX_KEY, purpose)
    canonical = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()
