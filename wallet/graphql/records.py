"""GraphQL types built from the field catalogue, so a kind's fields are declared once.

Every field of the kind becomes a GraphQL field of the matching scalar (the catalogue is the
explicit field list: nothing from a model leaks), plus `origin` and `withheldFields`.
"""

from __future__ import annotations

from typing import Any

import graphene

from wallet import catalogue
from wallet.graphql.types import RecordMetaFields, record_value

SCALARS: dict[catalogue.ValueType, Any] = {
    catalogue.ValueType.STRING: graphene.String,
    catalogue.ValueType.DATE: graphene.Date,
    catalogue.ValueType.DATETIME: graphene.DateTime,
    catalogue.ValueType.BOOLEAN: graphene.Boolean,
    catalogue.ValueType.DECIMAL: graphene.Decimal,
    catalogue.ValueType.INTEGER: graphene.Int,
}


def record_type(kind: catalogue.RecordKind, name: str, **extra: Any) -> type[graphene.ObjectType]:
    """An ObjectType for records of `kind`; `extra` adds fields (nested lists, say)."""
    fields: dict[str, Any] = {
        f.key: SCALARS[f.value_type](
            resolver=record_value(f.key), description=f"{f.labels.en} (`{kind.field_id(f.key)}`)"
        )
        for f in kind.fields
    }
    fields.update(extra)
    return type(
        name, (RecordMetaFields, graphene.ObjectType), {**fields, "__doc__": kind.labels.en}
    )
