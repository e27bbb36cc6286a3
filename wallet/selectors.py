"""Reads of the wallet's core domain, decrypted for the citizen they belong to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db import connection

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


@dataclass(frozen=True)
class _RecordRow:
    id: Any
    state: str
    fetched_at: Any
    upstream_modified_at: Any
    payload: bytes | memoryview


class CitizenWallet:
    """Everything the wallet holds for one citizen, loaded with a fixed number of queries.

    1 query for the data key, 1 for the profile and all data records together, whatever their
    number; each payload is decrypted once, on first use.
    """

    def __init__(
        self,
        citizen: Citizen,
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
    def _loaded(self) -> tuple[Any, dict[tuple[str, str], list[_RecordRow]]]:
        """The sealed profile and records, in one statement (plain SQL: this runs on every read
        of a wallet, see wallet/rawsql.py). Row 0 of the union is the profile."""
        citizen = rawsql.uuid_param(self.citizen.pk, connection)
        sql = (
            "SELECT 0 AS part, NULL AS id, NULL AS source, NULL AS kind, NULL AS state, "
            "NULL AS fetched_at, NULL AS modified_at, payload, NULL AS created_at "
            "FROM wallet_profile WHERE citizen_id = %s"
        )
        params: list[Any] = [citizen]
        if self.only_kinds is None or self.only_kinds:
            sql += (
                " UNION ALL SELECT 1, id, source, kind, state, fetched_at, upstream_modified_at, "
                "payload, created_at FROM wallet_datarecord WHERE citizen_id = %s"
            )
            params.append(citizen)
        if self.only_kinds:
            # placeholders only: every value goes in `params`
            sql += (
                " AND state = %s AND ("
                + " OR ".join(["(source = %s AND kind = %s)"] * len(self.only_kinds))
                + ")"
            )
            params.append(DataRecord.State.ACTIVE.value)
            for source, kind in self.only_kinds:
                params += [source, kind]
        with connection.cursor() as cursor:
            cursor.execute(sql + " ORDER BY part, created_at, id", params)
            rows = cursor.fetchall()
        profile_payload = None
        grouped: dict[tuple[str, str], list[_RecordRow]] = defaultdict(list)
        for part, pk, source, kind, state, fetched_at, modified_at, payload, _ in rows:
            if part == 0:
                profile_payload = payload
                continue
            grouped[(source, kind)].append(
                _RecordRow(
                    id=rawsql.as_uuid(pk),
                    state=state,
                    fetched_at=rawsql.aware(fetched_at),
                    upstream_modified_at=rawsql.aware(modified_at),
                    payload=payload,
                )
            )
        return profile_payload, grouped

    @property
    def _records_by_kind(self) -> dict[tuple[str, str], list[_RecordRow]]:
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


def citizen_wallet(*, citizen: Citizen) -> CitizenWallet:
    return CitizenWallet(citizen)
