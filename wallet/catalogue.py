"""The field catalogue: every kind of data the wallet holds and every field in it.

Each field has a stable dotted id `<source>.<kind>.<field>` (`profile.<field>` for the profile),
labels in Finnish, Swedish and English, a value type (an enum's choices with their labels, an
object list's sub-fields) and a sensitivity flag. Consents, receipts, the pages and the GraphQL
types are driven from here. The connectors register their sources' kinds as the registry loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ValueType(StrEnum):
    STRING = "string"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    DECIMAL = "decimal"
    INTEGER = "integer"
    LIST = "list"  # a list of strings
    ENUM = "enum"  # one of the field's `choices`
    OBJECT_LIST = "object_list"  # a list of objects, each with the field's `sub_fields`


@dataclass(frozen=True)
class Labels:
    fi: str
    sv: str
    en: str


@dataclass(frozen=True)
class CatalogueField:
    key: str  # the key in the record's decrypted payload
    labels: Labels
    value_type: ValueType = ValueType.STRING
    sensitive: bool = False
    self_entered: bool = False
    choices: tuple[str, ...] = ()  # ENUM: the values it may take
    choice_labels: tuple[Labels, ...] = ()  # ENUM: each choice as a person reads it, in order
    sub_fields: tuple[CatalogueField, ...] = ()  # OBJECT_LIST: each object's fields
    # ENUM and OBJECT_LIST: the name of the GraphQL enum or object type (default: derived from
    # the record type's name and the key, e.g. YouthMembershipStatus)
    type_name: str = ""

    def __post_init__(self) -> None:
        if (self.value_type == ValueType.ENUM) != bool(self.choices):
            raise ValueError(f"{self.key}: choices go with ENUM, and ENUM needs choices")
        if self.choice_labels and len(self.choice_labels) != len(self.choices):
            raise ValueError(f"{self.key}: one label for each choice")
        if (self.value_type == ValueType.OBJECT_LIST) != bool(self.sub_fields):
            raise ValueError(f"{self.key}: sub_fields go with OBJECT_LIST, and it needs them")


def choice_label(field: CatalogueField, value: object) -> Labels | None:
    """The labels of an ENUM field's value, if the field has them and the value is a choice."""
    if value in field.choices and field.choice_labels:
        return field.choice_labels[field.choices.index(value)]
    return None


@dataclass(frozen=True)
class RecordKind:
    source: str
    kind: str | None  # None for the profile, whose ids are `profile.<field>`
    labels: Labels
    fields: tuple[CatalogueField, ...]
    _by_key: dict[str, CatalogueField] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {f.key: f for f in self.fields})

    @property
    def id(self) -> str:
        return self.source if self.kind is None else f"{self.source}.{self.kind}"

    def field_id(self, key: str) -> str:
        return f"{self.id}.{key}"

    def field(self, key: str) -> CatalogueField:
        return self._by_key[key]

    def field_keys(self) -> list[str]:
        return [f.key for f in self.fields]


_KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> RecordKind:
    existing = _KINDS.get(kind.id)
    if existing is not None and existing != kind:
        raise ValueError(f"record kind {kind.id} is registered twice with different fields")
    _KINDS[kind.id] = kind
    return kind


def unregister(kind_id: str) -> None:
    """Forget a kind whose source is no longer enabled (the connectors' registry calls it when
    the settings change, as tests do)."""
    _KINDS.pop(kind_id, None)


def kinds() -> list[RecordKind]:
    return list(_KINDS.values())


def kind(kind_id: str) -> RecordKind:
    return _KINDS[kind_id]


def kind_and_key(field_id: str) -> tuple[RecordKind, str]:
    """The kind of the dotted id `<kind id>.<key>`, and the key; KeyError for an unknown kind."""
    kind_id, _, key = field_id.rpartition(".")
    return kind(kind_id), key


def field_by_id(field_id: str) -> CatalogueField:
    """The field with the dotted id `<kind id>.<key>`; KeyError if there is none."""
    record_kind, key = kind_and_key(field_id)
    return record_kind.field(key)


def field_ids() -> list[str]:
    return [k.field_id(f.key) for k in _KINDS.values() for f in k.fields]


PROFILE = register(
    RecordKind(
        source="profile",
        kind=None,
        labels=Labels("Omat tiedot", "Egna uppgifter", "Profile"),
        fields=(
            CatalogueField(
                "first_name", Labels("Etunimi", "Förnamn", "First name"), self_entered=True
            ),
            CatalogueField(
                "last_name", Labels("Sukunimi", "Efternamn", "Last name"), self_entered=True
            ),
            CatalogueField(
                "nickname", Labels("Kutsumanimi", "Tilltalsnamn", "Nickname"), self_entered=True
            ),
            CatalogueField("email", Labels("Sähköposti", "E-post", "Email"), self_entered=True),
            CatalogueField("phone", Labels("Puhelin", "Telefon", "Phone"), self_entered=True),
            CatalogueField("address", Labels("Osoite", "Adress", "Address"), self_entered=True),
            CatalogueField(
                "preferred_language",
                Labels("Asiointikieli", "Kontaktspråk", "Preferred language"),
                self_entered=True,
            ),
        ),
    )
)
