"""Consent's hot-path SQL, in one place: the statement every consented read starts with.

Plain SQL for the reason given in wallet/rawsql.py. Table and column names come from the
models' metadata; the statement is built once for each shape (the number of record kinds,
with or without the profile). The citizen, their access-log head, profile and records come in
through the wallet core's statement around this app's part (`wallet.rawsql.rows_with_wallet`):
the core owns those tables, so their names appear in no statement of this app, and the read
still runs one statement for all of it.
"""

# Statements are built with f-strings from model metadata (names, never values: every value is
# a parameter), so S608 does not apply to this module.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection

from consent.models import Consent, ConsentStatus, Service, ServiceSubject
from wallet.rawsql import (
    CitizenRow,
    LogHead,
    SealedWallet,
    WalletStatement,
    as_uuid,
    aware,
    column,
    rows_with_wallet,
    table,
    uuid_param,
)


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """A consent as the read's statement reads it, with its newest status record's state
    (None if it has none; see `consent.selectors.effective_state`). Not a model instance: it
    cannot be saved."""

    id: uuid.UUID
    expires_at: datetime | None
    contents: bytes | memoryview
    current_state: str | None

    @property
    def pk(self) -> uuid.UUID:
        return self.id


@dataclass(frozen=True)
class ReadTarget:
    """Who a service's read is about and its consents (oldest first); the head of the citizen's
    access log, for the entry the read will add; and the citizen's sealed profile and records
    that the read may share (those the service asked for, before the consents say which)."""

    citizen: CitizenRow
    consents: list[ConsentRow]
    log_head: LogHead | None
    wallet: SealedWallet


_C_ID = column(Consent, "pk")
# The service's consents to the citizen behind a pairwise id (each with its newest state), for
# the core's statement around them (wallet.rawsql.rows_with_wallet): four values a row, then
# the sort key (oldest first) and the citizen's id.
CONSENTS_OF_PAIRWISE_ID = (
    f"SELECT c.{_C_ID}, c.{column(Consent, 'expires_at')}, c.{column(Consent, 'contents')}, "
    f"(SELECT st.{column(ConsentStatus, 'state')} FROM {table(ConsentStatus)} st "
    f"WHERE st.{column(ConsentStatus, 'consent')} = c.{_C_ID} "
    f"ORDER BY st.{column(ConsentStatus, 'seq')} DESC LIMIT 1), "
    f"c.{column(Consent, 'given_at')}, c.{_C_ID}, c.{column(Consent, 'citizen')} "
    f"FROM {table(Consent)} c "
    f"JOIN {table(ServiceSubject)} sub ON sub.{column(ServiceSubject, 'pk')} = "
    f"c.{column(Consent, 'subject')} "
    f"JOIN {table(Service)} svc ON svc.{column(Service, 'pk')} = c.{column(Consent, 'service')} "
    f"WHERE c.{column(Consent, 'service')} = %s AND sub.{column(ServiceSubject, 'pairwise_id')} "
    f"= %s AND svc.{column(Service, 'is_active')} = %s"
)


@cache
def grants_for_read_statement(kinds: int, profile: bool) -> WalletStatement:
    """The read's statement for `kinds` record kinds, with or without the profile (built once
    for each shape)."""
    return rows_with_wallet(target=CONSENTS_OF_PAIRWISE_ID, width=4, kinds=kinds, profile=profile)


def grants_for_read(
    *,
    service_id: uuid.UUID,
    pairwise_id: uuid.UUID,
    kinds: Sequence[tuple[str, str]] = (),
    profile: bool = False,
) -> ReadTarget | None:
    """The citizen behind `pairwise_id` for this service, their consents to it, their log head,
    and their sealed profile (if `profile`) and active records of `kinds` ((source, kind)
    pairs), in one statement; None if the id is not this service's, or the service is
    suspended."""
    statement = grants_for_read_statement(len(kinds), profile)
    params = [uuid_param(service_id, connection), uuid_param(pairwise_id, connection), True]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params + statement.kinds_params(kinds))
        read = statement.read(cursor.fetchall())
    if read.citizen is None:
        return None
    consents = [
        ConsentRow(
            id=as_uuid(pk),  # type: ignore[arg-type]  # a primary key
            expires_at=aware(expires_at),
            contents=contents,
            current_state=state,
        )
        for pk, expires_at, contents, state in read.rows
    ]
    return ReadTarget(
        citizen=read.citizen, consents=consents, log_head=read.log_head, wallet=read.wallet
    )
