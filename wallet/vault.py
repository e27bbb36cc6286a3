"""The sealing boundary: the only way to seal or open a citizen's values.

- `citizen_writing(citizen)`: the unit of work for a write. In one transaction it locks the
  citizen row (a data-key rotation takes the same lock, so the key generation cannot move before
  the write commits), then takes the citizen's data key for that generation (creating it on
  first use). Every write of sealed data goes through it: no caller can skip the lock.
- `citizen_reading(citizen)`: the data key for the generation the citizen's data is sealed
  under, for reads; None when the citizen has no key (never created, or erased).
- `system_vault()`: the wallet's own key, for secrets that belong to no citizen.

Each opens and seals by a `wallet.sealed.SealedField` and a row id: the label is derived, never
written by a caller. Inside `key_scope()` (each request and each task runs in one) a citizen's
key is fetched and unwrapped once, whoever asks for it, and forgotten when the scope ends: the
key lives only for the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from django.db import transaction

from wallet import crypto, keys, rawsql
from wallet.models import Citizen, CitizenKey
from wallet.sealed import SealedField

# The key-store entry that seals the wallet's own secrets (not a citizen).
SYSTEM_KEY_ID = UUID("00000000-0000-4000-8000-0000000000c0")


class Vault:
    """One unwrapped data key (a citizen's, of one generation; or the wallet's own)."""

    def __init__(self, cipher: crypto.CitizenCipher) -> None:
        self._cipher = cipher

    def __repr__(self) -> str:
        return f"Vault(citizen_id={self.citizen_id}, generation={self.generation})"

    @property
    def citizen_id(self) -> UUID:
        return self._cipher.citizen_id

    @property
    def generation(self) -> int:
        return self._cipher.generation

    def seal(self, field: SealedField, *, row_id: object, plaintext: bytes) -> bytes:
        return field.seal(self._cipher, row_id, plaintext)

    def open(self, field: SealedField, *, row_id: object, ciphertext: bytes | memoryview) -> bytes:
        return field.open(self._cipher, row_id, ciphertext)

    def seal_json(self, field: SealedField, *, row_id: object, value: Any) -> bytes:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        return self.seal(field, row_id=row_id, plaintext=text.encode())

    def open_json(
        self, field: SealedField, *, row_id: object, ciphertext: bytes | memoryview
    ) -> Any:
        return json.loads(self.open(field, row_id=row_id, ciphertext=ciphertext))

    def open_text(
        self, field: SealedField, *, row_id: object, ciphertext: bytes | memoryview
    ) -> str:
        return self.open(field, row_id=row_id, ciphertext=ciphertext).decode()

    def seal_text(self, field: SealedField, *, row_id: object, text: str) -> bytes:
        return self.seal(field, row_id=row_id, plaintext=text.encode())


class CitizenWriting(Vault):
    """A write's unit of work: the locked citizen row and their data key."""

    def __init__(self, cipher: crypto.CitizenCipher, citizen: Citizen) -> None:
        super().__init__(cipher)
        self.citizen = citizen


# The keys unwrapped in the current request or task, by (citizen id, generation): a key of one
# generation never changes, so a cached one is always right.
_scope: ContextVar[dict[tuple[UUID, int], Vault] | None] = ContextVar("vault_scope", default=None)


@contextmanager
def key_scope() -> Iterator[None]:
    """Unwrap each citizen's key at most once in here; forget every key on leaving."""
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def key_scope_middleware(get_response: Any) -> Any:
    """Every request is one key scope."""

    def middleware(request: Any) -> Any:
        with key_scope():
            return get_response(request)

    return middleware


def _remember(vault: Vault) -> Vault:
    cache = _scope.get()
    if cache is not None:
        cache[(vault.citizen_id, vault.generation)] = vault
    return vault


def _remembered(citizen_id: UUID, generation: int) -> Vault | None:
    cache = _scope.get()
    return cache.get((citizen_id, generation)) if cache is not None else None


def _vault(citizen_id: UUID, generation: int, *, create: bool) -> Vault | None:
    vault = _remembered(citizen_id, generation)
    if vault is not None:
        return vault
    key = rawsql.citizen_key_fetch(citizen_id=citizen_id)
    if key is None:
        if not create or generation != 1:
            return None
        return _remember(Vault(keys.citizen_key_create(citizen_id=citizen_id)))
    return _remember(Vault(keys.cipher_from_key(key, generation=generation)))


def citizen_reading(citizen: rawsql.CitizenRef) -> Vault | None:
    """The key the citizen's data is sealed under (the generation on `citizen`), or None when
    they have no key. Reads need no lock: a rotation switches the generation and the data in one
    transaction, and the key of both generations stays until it has."""
    return _vault(citizen.pk, citizen.data_key_generation, create=False)


def citizen_reading_required(citizen: rawsql.CitizenRef) -> Vault:
    """`citizen_reading`, for reads of rows that exist only under a key: MissingKeyError
    without one."""
    vault = citizen_reading(citizen)
    if vault is None:
        raise crypto.MissingKeyError("the citizen has no data key (never created, or erased)")
    return vault


def citizen_key_at(*, citizen_id: UUID, generation: int) -> Vault:
    """The key of one generation (an access-log append goes by its head's generation).
    MissingKeyError when there is none: erased, or a rotation has retired it."""
    vault = _vault(citizen_id, generation, create=generation == 1)
    if vault is None:
        raise crypto.MissingKeyError(f"no data key of generation {generation} for the citizen")
    return vault


class CitizenClosed(crypto.MissingKeyError):
    """The citizen is erased, or their account closed: nothing more is written for them."""


@contextmanager
def citizen_writing(citizen: Citizen | UUID, *, create: bool = True) -> Iterator[CitizenWriting]:
    """A write of the citizen's sealed data, in one transaction holding the citizen row's lock.

    `create`: make the key on first use (a first sync, a first consent). MissingKeyError when
    there is none to use; CitizenClosed when the citizen is gone or closed (an erasure took the
    lock first: a sync or a consent racing it writes nothing, and makes no key)."""
    citizen_id = citizen if isinstance(citizen, UUID) else citizen.pk
    with transaction.atomic():
        locked = Citizen.objects.select_for_update().filter(pk=citizen_id).first()
        if locked is None or not locked.is_active:
            raise CitizenClosed("the citizen is erased or their account closed")
        vault = _vault(locked.pk, locked.data_key_generation, create=create)
        if vault is None:
            raise crypto.MissingKeyError("the citizen has no data key (never created, or erased)")
        yield CitizenWriting(vault._cipher, locked)


def citizen_key_new(citizen_id: UUID) -> tuple[CitizenKey, Vault]:
    """A first data key for a citizen not saved yet, unsaved too: for bulk loaders (the
    benchmarks' seeding) that store thousands of citizens and their keys in a few statements.
    Store the key (in the key store) before anything sealed under it."""
    key, cipher = keys.citizen_key_new(citizen_id=citizen_id)
    return key, Vault(cipher)


def system_vault() -> Vault:
    """The wallet's own key (a key-store entry like a citizen's, so KEK rotation covers it)."""
    key = CitizenKey.objects.filter(citizen_id=SYSTEM_KEY_ID).first()
    if key is None:
        return Vault(keys.citizen_key_create(citizen_id=SYSTEM_KEY_ID))
    return Vault(keys.cipher_from_key(key, generation=key.generation))
