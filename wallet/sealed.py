"""Where sealed values live, so key operations can find every one of a citizen's ciphertexts.

Each app registers the columns it seals. The associated data of a ciphertext names the table
(`db_table`), the row (`row_id` of the row) and the column, so these three must match what the
writing service used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from wallet import crypto


@dataclass(frozen=True)
class SealedColumn:
    model: type[models.Model]
    column: str
    citizen_field: str = "citizen"
    row_id: Callable[[Any], object] = lambda row: row.pk

    @property
    def table(self) -> str:
        return self.model._meta.db_table


_COLUMNS: list[SealedColumn] = []


def register(column: SealedColumn) -> SealedColumn:
    if column not in _COLUMNS:
        _COLUMNS.append(column)
    return column


def reseal_citizen(*, citizen: Any, old: crypto.CitizenCipher, new: crypto.CitizenCipher) -> int:
    """Re-seal every value of the citizen from `old` to `new`; the caller holds the transaction.

    A value that already opens under `new` (an earlier, interrupted run sealed it) is left as is.
    """
    rewritten = 0
    for column in _COLUMNS:
        manager = column.model._default_manager
        rows = list(manager.select_for_update().filter(**{column.citizen_field: citizen}))
        changed = []
        for row in rows:
            table, row_id, field = column.table, column.row_id(row), column.column
            ciphertext = getattr(row, field)
            if ciphertext is None:
                continue
            try:
                plaintext = old.open(table=table, row_id=row_id, field=field, ciphertext=ciphertext)
            except crypto.DecryptionError:
                # raises unless an earlier, interrupted run already re-sealed it
                new.open(table=table, row_id=row_id, field=field, ciphertext=ciphertext)
                continue
            resealed = new.seal(table=table, row_id=row_id, field=field, plaintext=plaintext)
            setattr(row, field, resealed)
            changed.append(row)
        if changed:
            manager.bulk_update(changed, [field])
            rewritten += len(changed)
    return rewritten
