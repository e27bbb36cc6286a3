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
    updated_at: str


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

    1 query for the data key, 1 for the profile, 1 for all data records, whatever their number;
    each payload is decrypted once, on first use.
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
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT payload FROM wallet_profile WHERE citizen_id = %s",
                [rawsql.uuid_param(self.citizen.pk, connection)],
            )
            row = cursor.fetchone()
        if row is None or self._cipher is None:
            return {}
        entries = self._cipher.open_json(
            table=PROFILE_TABLE, row_id=self.citizen.pk, field="payload", ciphertext=row[0]
        )
        return {key: ProfileValue(**entry) for key, entry in entries.items()}

    @cached_property
    def _records_by_kind(self) -> dict[tuple[str, str], list[_RecordRow]]:
        # Plain SQL: this runs on every read of the wallet (see wallet/rawsql.py for why).
        sql = (
            "SELECT id, source, kind, state, fetched_at, upstream_modified_at, payload "
            "FROM wallet_datarecord WHERE citizen_id = %s"
        )
        params: list[Any] = [rawsql.uuid_param(self.citizen.pk, connection)]
        if self.only_kinds is not None:
            if not self.only_kinds:
                return {}
            sql += (
                " AND state = %s AND ("
                + " OR ".join(["(source = %s AND kind = %s)"] * len(self.only_kinds))
                + ")"
            )
            params.append(DataRecord.State.ACTIVE.value)
            for source, kind in self.only_kinds:
                params += [source, kind]
        with connection.cursor() as cursor:
            cursor.execute(sql + " ORDER BY created_at, id", params)
            rows = cursor.fetchall()
        grouped: dict[tuple[str, str], list[_RecordRow]] = defaultdict(list)
        for pk, source, kind, state, fetched_at, modified_at, payload in rows:
            grouped[(source, kind)].append(
                _RecordRow(
                    id=rawsql.as_uuid(pk),
                    state=state,
                    fetched_at=rawsql.aware(fetched_at),
                    upstream_modified_at=rawsql.aware(modified_at),
                    payload=payload,
                )
            )
        return grouped

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
