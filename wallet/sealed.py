"""The columns that hold sealed values, each declared once beside its model.

A ciphertext's associated data names its table, column and row, so a value moved to another row
or column does not open. All three come from here: the table and the column from the model's
metadata, the row id in its field's own Python type (a UUID given as text names the same row as
the UUID). Callers name a `SealedField`; none writes a table name, a column name or a label.

Key operations (a data-key rotation) find every one of a citizen's ciphertexts through
`citizen_fields()`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db import models

from wallet import crypto


class SealedField:
    """A BinaryField of sealed values. `row` names the field whose value identifies the row in
    the label (the primary key unless the row is known before it has one, like a log entry's
    sequence number). `per_citizen` columns are sealed under the citizen's data key, found
    through `citizen_field`; the others under the wallet's own system key."""

    def __init__(
        self,
        model: type[models.Model],
        name: str,
        *,
        row: str = "pk",
        per_citizen: bool = True,
        citizen_field: str = "citizen",
    ) -> None:
        self.model = model
        self.name = name
        self.row = row
        self.per_citizen = per_citizen
        self.citizen_field = citizen_field

    def __repr__(self) -> str:
        return f"SealedField({self.model.__name__}.{self.name})"

    @cached_property
    def table(self) -> str:
        return self.model._meta.db_table

    @cached_property
    def column(self) -> str:
        column = self.model._meta.get_field(self.name).column  # type: ignore[union-attr]
        assert column is not None
        return str(column)

    @cached_property
    def _row_field(self) -> Any:
        if self.row == "pk":
            return self.model._meta.pk
        return next(f for f in self.model._meta.concrete_fields if self.row in (f.name, f.attname))

    def row_id(self, row_id: object) -> object:
        """The row id in its field's type: `str(uuid)` and `uuid` are one row."""
        value = self._row_field.to_python(row_id)
        if value is None:
            raise ValueError(f"{self!r}: a sealed value needs its row id")
        return value

    def row_id_of(self, instance: Any) -> object:
        """The row id of a model instance (or a typed row with the same attribute names)."""
        if self.row == "pk":
            return self.row_id(instance.pk)
        return self.row_id(getattr(instance, self._row_field.attname))

    def seal(self, cipher: crypto.CitizenCipher, row_id: object, plaintext: bytes) -> bytes:
        return cipher.seal(
            table=self.table, row_id=self.row_id(row_id), field=self.column, plaintext=plaintext
        )

    def open(
        self, cipher: crypto.CitizenCipher, row_id: object, ciphertext: bytes | memoryview
    ) -> bytes:
        return cipher.open(
            table=self.table, row_id=self.row_id(row_id), field=self.column, ciphertext=ciphertext
        )


_FIELDS: list[SealedField] = []


def field(model: type[models.Model], name: str, **options: Any) -> SealedField:
    """Declare a sealed column (once, beside its model); `options` as SealedField's."""
    for existing in _FIELDS:
        if (existing.model, existing.name) == (model, name):
            return existing
    declared = SealedField(model, name, **options)
    _FIELDS.append(declared)
    return declared


def citizen_fields() -> list[SealedField]:
    return [f for f in _FIELDS if f.per_citizen]


def all_fields() -> list[SealedField]:
    return list(_FIELDS)


def reseal_citizen(*, citizen: Any, old: crypto.CitizenCipher, new: crypto.CitizenCipher) -> int:
    """Re-seal every value of the citizen from `old` to `new`; the caller holds the transaction.

    A value that already opens under `new` (an earlier, interrupted run sealed it) is left as is.
    """
    rewritten = 0
    for sealed_field in citizen_fields():
        manager = sealed_field.model._default_manager
        rows = list(manager.select_for_update().filter(**{sealed_field.citizen_field: citizen}))
        changed = []
        for row in rows:
            ciphertext = getattr(row, sealed_field.name)
            if ciphertext is None:
                continue
            row_id = sealed_field.row_id_of(row)
            try:
                plaintext = sealed_field.open(old, row_id, ciphertext)
            except crypto.DecryptionError:
                # raises unless an earlier, interrupted run already re-sealed it
                sealed_field.open(new, row_id, ciphertext)
                continue
            setattr(row, sealed_field.name, sealed_field.seal(new, row_id, plaintext))
            changed.append(row)
        if changed:
            manager.bulk_update(changed, [sealed_field.name])
            rewritten += len(changed)
    return rewritten
