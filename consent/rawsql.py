"""Consent's hot-path SQL, in one place: the statement every consented read starts with.

Plain SQL for the reason given in wallet/rawsql.py. Table and column names come from the
models' metadata and the statement is built once, at import. The citizen and their access-log
head come from the wallet core's fragment (`wallet.rawsql.citizen_with_log_head`): the core
owns those tables, so their names appear in no statement of this app, and the read still runs
one statement for all of it.
"""

# Statements are built with f-strings from model metadata (names, never values: every value is
# a parameter), so S608 does not apply to this module.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from consent.models import Consent, ConsentStatus, Service, ServiceSubject
from wallet.rawsql import (
    CitizenRow,
    LogHead,
    as_uuid,
    aware,
    citizen_with_log_head,
    column,
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
    """Who a service's read is about and its consents (oldest first); and the head of the
    citizen's access log, for the entry the read will add."""

    citizen: CitizenRow
    consents: list[ConsentRow]
    log_head: LogHead | None


_CORE = citizen_with_log_head(citizen_id=f"c.{column(Consent, 'citizen')}")
_C_ID = column(Consent, "pk")
GRANTS_FOR_READ = (
    f"SELECT c.{_C_ID}, c.{column(Consent, 'expires_at')}, c.{column(Consent, 'contents')}, "
    f"(SELECT st.{column(ConsentStatus, 'state')} FROM {table(ConsentStatus)} st "
    f"WHERE st.{column(ConsentStatus, 'consent')} = c.{_C_ID} "
    f"ORDER BY st.{column(ConsentStatus, 'seq')} DESC LIMIT 1), {_CORE.columns} "
    f"FROM {table(Consent)} c "
    f"JOIN {table(ServiceSubject)} sub ON sub.{column(ServiceSubject, 'pk')} = "
    f"c.{column(Consent, 'subject')} "
    f"JOIN {table(Service)} svc ON svc.{column(Service, 'pk')} = c.{column(Consent, 'service')} "
    f"{_CORE.joins} "
    f"WHERE c.{column(Consent, 'service')} = %s AND sub.{column(ServiceSubject, 'pairwise_id')} "
    f"= %s AND svc.{column(Service, 'is_active')} = %s "
    f"ORDER BY c.{column(Consent, 'given_at')}, c.{_C_ID}"
)


def grants_for_read(*, service_id: uuid.UUID, pairwise_id: uuid.UUID) -> ReadTarget | None:
    """The citizen behind `pairwise_id` for this service, their consents to it and their log
    head, in one statement; None if the id is not this service's, or the service is suspended."""
    with connection.cursor() as cursor:
        cursor.execute(
            GRANTS_FOR_READ,
            [uuid_param(service_id, connection), uuid_param(pairwise_id, connection), True],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    citizen, head = _CORE.read(rows[0])
    consents = [
        ConsentRow(
            id=as_uuid(pk),  # type: ignore[arg-type]  # a primary key
            expires_at=aware(expires_at),
            contents=contents,
            current_state=state,
        )
        for pk, expires_at, contents, state, *_ in rows
    ]
    return ReadTarget(citizen=citizen, consents=consents, log_head=head)
