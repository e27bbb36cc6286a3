"""Reads of the wallet's core domain, decrypted for the citizen they belong to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from wallet import crypto
from wallet.keys import cipher_from_key
from wallet.models import Citizen, CitizenKey, DataRecord, Profile
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


class CitizenWallet:
    """Everything the wallet holds for one citizen, loaded with a fixed number of queries.

    1 query for the data key, 1 for the profile, 1 for all data records, whatever their number;
    each payload is decrypted once, on first use.
    """

    def __init__(self, citizen: Citizen, *, cipher: crypto.CitizenCipher | None = None) -> None:
        self.citizen = citizen
        if cipher is not None and cipher.generation == citizen.data_key_generation:
            self._cipher = cipher  # the caller already unwrapped the key: no second fetch

    @cached_property
    def _cipher(self) -> crypto.CitizenCipher | None:
        key = CitizenKey.objects.filter(citizen_id=self.citizen.pk).first()
        return cipher_from_key(key, generation=self.citizen.data_key_generation) if key else None

    @cached_property
    def profile(self) -> dict[str, ProfileValue]:
        profile = Profile.objects.filter(citizen_id=self.citizen.pk).first()
        if profile is None or self._cipher is None:
            return {}
        entries = self._cipher.open_json(
            table=PROFILE_TABLE, row_id=self.citizen.pk, field="payload", ciphertext=profile.payload
        )
        return {key: ProfileValue(**entry) for key, entry in entries.items()}

    @cached_property
    def _records_by_kind(self) -> dict[tuple[str, str], list[DataRecord]]:
        grouped: dict[tuple[str, str], list[DataRecord]] = defaultdict(list)
        rows = DataRecord.objects.filter(citizen_id=self.citizen.pk).order_by("created_at", "id")
        for row in rows:
            grouped[(row.source, row.kind)].append(row)
        return grouped

    def records(self, *, source: str, kind: str, include_ended: bool = False) -> list[RecordView]:
        rows = self._records_by_kind.get((source, kind), [])
        if self._cipher is None:
            return []
        return [
            RecordView(
                id=row.pk,
                source=row.source,
                kind=row.kind,
                state=row.state,
                fetched_at=row.fetched_at,
                upstream_modified_at=row.upstream_modified_at,
                payload=self._cipher.open_json(
                    table=RECORD_TABLE, row_id=row.pk, field="payload", ciphertext=row.payload
                ),
            )
            for row in rows
            if include_ended or row.state == DataRecord.State.ACTIVE
        ]


def citizen_wallet(*, citizen: Citizen) -> CitizenWallet:
    return CitizenWallet(citizen)
