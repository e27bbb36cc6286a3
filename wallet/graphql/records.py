"""GraphQL types built from the field catalogue, so a kind's fields are declared once.

Every field of the kind becomes a GraphQL field of the matching type (the catalogue is the
explicit field list: nothing from a model leaks), plus `origin` and `withheldFields`:

- a scalar (STRING, DATE, DATETIME, BOOLEAN, DECIMAL, INTEGER) becomes that scalar;
- ENUM becomes a GraphQL enum of the field's `choices`, named `type_name` or the record type's
  name and the key (`YouthMembership` + `status` = `YouthMembershipStatus`);
- LIST becomes `[String!]`;
- OBJECT_LIST becomes `[<object>!]`, the object named `type_name` (or the record type's name
  and the key), with one field per sub-field, read from each item of the payload's list.
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


def _pascal(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))


def _enum(field: catalogue.CatalogueField, owner: str) -> type[graphene.Enum]:
    name = field.type_name or f"{owner}{_pascal(field.key)}"
    members: dict[str, Any] = {choice: choice for choice in field.choices}
    return type(name, (graphene.Enum,), members)


def _object(field: catalogue.CatalogueField, owner: str) -> type[graphene.ObjectType]:
    name = field.type_name or f"{owner}{_pascal(field.key)}"
    attrs = {sub.key: _scalar_or_nested(sub, name) for sub in field.sub_fields}
    return type(name, (graphene.ObjectType,), attrs)


def _scalar_or_nested(field: catalogue.CatalogueField, owner: str, **kwargs: Any) -> Any:
    """The GraphQL field for one catalogue field (of a record type called `owner`)."""
    value_type = field.value_type
    if value_type == catalogue.ValueType.ENUM:
        return graphene.Field(_enum(field, owner), **kwargs)
    if value_type == catalogue.ValueType.OBJECT_LIST:
        return graphene.List(graphene.NonNull(_object(field, owner)), **kwargs)
    if value_type == catalogue.ValueType.LIST:
        return graphene.List(graphene.NonNull(graphene.String), **kwargs)
    return SCALARS[value_type](**kwargs)


def record_type(kind: catalogue.RecordKind, name: str, **extra: Any) -> type[graphene.ObjectType]:
    """An ObjectType for records of `kind`; `extra` adds fields (nested lists, say)."""
    fields: dict[str, Any] = {
        f.key: _scalar_or_nested(
            f,
            name,
            resolver=record_value(f.key),
            description=f"{f.labels.en} (`{kind.field_id(f.key)}`)",
        )
        for f in kind.fields
    }
    fields.update(extra)
    return type(
        name, (RecordMetaFields, graphene.ObjectType), {**fields, "__doc__": kind.labels.en}
    )
