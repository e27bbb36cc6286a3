"""Reads of the wallet's core domain, decrypted for the citizen they belong to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from wallet import rawsql
from wallet.models import PROFILE_PAYLOAD, RECORD_PAYLOAD, Citizen, DataRecord
from wallet.vault import Vault, citizen_reading


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
    ended_at: datetime | None = None  # loaded by `citizen_records_all` only

    def get(self, key: str) -> Any:
        return self.payload.get(key)


_CitizenT = TypeVar("_CitizenT", bound=rawsql.CitizenRef)


class CitizenWallet(Generic[_CitizenT]):
    """Everything the wallet holds for one citizen, loaded with a fixed number of queries.

    1 query for the data key (none if the request already unwrapped it), 1 for the profile and
    all data records together, whatever their number; each payload is decrypted once, on first
    use. `citizen` is a `Citizen`, or the
    `rawsql.CitizenRow` a consented read's statement returned.
    """

    def __init__(
        self,
        citizen: _CitizenT,
        *,
        vault: Vault | None = None,
        only_kinds: Collection[tuple[str, str]] | None = None,
        sealed: rawsql.SealedWallet | None = None,
    ) -> None:
        """`only_kinds` limits the records query to those (source, kind) pairs and active
        records: a service's read needs no more. `sealed`: the profile and records a caller's
        own statement already read (no query here)."""
        self.citizen = citizen
        self.only_kinds = only_kinds
        self._opened: dict[Any, RecordView] = {}  # by record id: each payload opened once
        if vault is not None and vault.generation == citizen.data_key_generation:
            self._vault = vault  # the caller already holds the key
        if sealed is not None:
            self._loaded = _grouped(sealed)

    @cached_property
    def _vault(self) -> Vault | None:
        return citizen_reading(self.citizen)

    @cached_property
    def profile(self) -> dict[str, ProfileValue]:
        payload = self._loaded[0]
        if payload is None or self._vault is None:
            return {}
        entries = self._vault.open_json(PROFILE_PAYLOAD, row_id=self.citizen.pk, ciphertext=payload)
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
        return _grouped(
            rawsql.profile_and_records(citizen_id=self.citizen.pk, only_kinds=self.only_kinds)
        )

    @property
    def _records_by_kind(self) -> dict[tuple[str, str], list[rawsql.RecordRow]]:
        return self._loaded[1]

    def records(self, *, source: str, kind: str, include_ended: bool = False) -> list[RecordView]:
        rows = self._records_by_kind.get((source, kind), [])
        vault = self._vault
        if vault is None:
            return []
        return [
            self._record_view(row, vault)
            for row in rows
            if include_ended or row.state == DataRecord.State.ACTIVE
        ]

    def _record_view(self, row: rawsql.RecordRow, vault: Vault) -> RecordView:
        view = self._opened.get(row.id)
        if view is None:
            view = self._opened[row.id] = RecordView(
                id=row.id,
                source=row.source,
                kind=row.kind,
                state=row.state,
                fetched_at=row.fetched_at,
                upstream_modified_at=row.upstream_modified_at,
                payload=vault.open_json(RECORD_PAYLOAD, row_id=row.id, ciphertext=row.payload),
            )
        return view


def _grouped(
    sealed: rawsql.SealedWallet,
) -> tuple[Any, dict[tuple[str, str], list[rawsql.RecordRow]]]:
    grouped: dict[tuple[str, str], list[rawsql.RecordRow]] = defaultdict(list)
    for row in sealed.records:
        grouped[(row.source, row.kind)].append(row)
    return sealed.profile, grouped


def citizen_wallet(*, citizen: Citizen) -> CitizenWallet[Citizen]:
    return CitizenWallet(citizen)


def citizen_records_all(*, citizen: rawsql.CitizenRef, vault: Vault | None) -> list[RecordView]:
    """Every record of the citizen, ended ones too, oldest first, each payload opened once (the
    data export). 1 query, whatever their number; none readable without a key."""
    if vault is None:
        return []
    rows = DataRecord.objects.filter(citizen_id=citizen.pk).order_by("created_at", "pk")
    return [
        RecordView(
            id=row.pk,
            source=row.source,
            kind=row.kind,
            state=row.state,
            fetched_at=row.fetched_at,
            upstream_modified_at=row.upstream_modified_at,
            ended_at=row.ended_at,
            payload=vault.open_json(RECORD_PAYLOAD, row_id=row.pk, ciphertext=row.payload),
        )
        for row in rows
    ]


def records_ended_count(*, source: str, ended_before: datetime) -> int:
    """How many of `source`'s records ended upstream before `ended_before` (what
    wallet.services.records_ended_delete would delete now)."""
    return DataRecord.objects.filter(
        source=source, state=DataRecord.State.ENDED, ended_at__lt=ended_before
    ).count()
