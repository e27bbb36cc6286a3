"""Reads of the wallet's core domain, decrypted for the citizen they belong to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from wallet import crypto, rawsql
from wallet.keys import cipher_from_key, citizen_key_get
from wallet.models import Citizen, DataRecord
from wallet.services import PROFILE_TABLE, RECORD_TABLE


@dataclass(frozen=True)
class ProfileValue:
    value: str
    source: str
    updated_at: datetime  # sealed as ISO 8601 text, parsed on opening


@dataclass(frozen=True)
class RecordView:
    id: Any
    source: str
    kind: str
    state: str
    fetched_at: datetime
    upstream_modified_at: datetime | None
    payload: dict[str, Any]

    def get(self, key: str) -> Any:
        return self.payload.get(key)


_CitizenT = TypeVar("_CitizenT", bound=rawsql.CitizenRef)


class CitizenWallet(Generic[_CitizenT]):
    """Everything the wallet holds for one citizen, loaded with a fixed number of queries.

    1 query for the data key, 1 for the profile and all data records together, whatever their
    number; each payload is decrypted once, on first use. `citizen` is a `Citizen`, or the
    `rawsql.CitizenRow` a consented read's statement returned.
    """

    def __init__(
        self,
        citizen: _CitizenT,
        *,
        cipher: crypto.CitizenCipher | None = None,
        only_kinds: Collection[tuple[str, str]] | None = None,
    ) -> None:
        """`only_kinds` limits the records query to those (source, kind) pairs and active
        records: a service's read needs no more."""
        self.citizen = citizen
        self.only_kinds = only_kinds
        if cipher is not None and cipher.generation == citizen.data_key_generation:
            self._cipher = cipher  # the caller already unwrapped the key: no second fetch

    @cached_property
    def _cipher(self) -> crypto.CitizenCipher | None:
        key = citizen_key_get(self.citizen.pk)
        return cipher_from_key(key, generation=self.citizen.data_key_generation) if key else None

    @cached_property
    def profile(self) -> dict[str, ProfileValue]:
        payload = self._loaded[0]
        if payload is None or self._cipher is None:
            return {}
        entries = self._cipher.open_json(
            table=PROFILE_TABLE, row_id=self.citizen.pk, field="payload", ciphertext=payload
        )
        return {
            key: ProfileValue(
                value=entry["value"],
                source=entry["source"],
                updated_at=datetime.fromisoformat(entry["updated_at"]),
            )
            for key, entry in entries.items()
        }

    @cached_property
    def _loaded(self) -> tuple[Any, dict[tuple[str, str], list[rawsql.RecordRow]]]:
        """The sealed profile and records, in one statement (wallet/rawsql.py: this runs on
        every read of a wallet)."""
        sealed = rawsql.profile_and_records(citizen_id=self.citizen.pk, only_kinds=self.only_kinds)
        grouped: dict[tuple[str, str], list[rawsql.RecordRow]] = defaultdict(list)
        for row in sealed.records:
            grouped[(row.source, row.kind)].append(row)
        return sealed.profile, grouped

    @property
    def _records_by_kind(self) -> dict[tuple[str, str], list[rawsql.RecordRow]]:
        return self._loaded[1]

    def records(self, *, source: str, kind: str, include_ended: bool = False) -> list[RecordView]:
        rows = self._records_by_kind.get((source, kind), [])
        if self._cipher is None:
            return []
        return [
            RecordView(
                id=row.id,
                source=source,
                kind=kind,
                state=row.state,
                fetched_at=row.fetched_at,
                upstream_modified_at=row.upstream_modified_at,
                payload=self._cipher.open_json(
                    table=RECORD_TABLE, row_id=row.id, field="payload", ciphertext=row.payload
                ),
            )
            for row in rows
            if include_ended or row.state == DataRecord.State.ACTIVE
        ]


def citizen_wallet(*, citizen: Citizen) -> CitizenWallet[Citizen]:
    return CitizenWallet(citizen)
