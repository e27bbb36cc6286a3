"""GraphQL types of the citizen's own data. Every type lists its fields explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import graphene

from wallet import catalogue
from wallet.assurance import field_visible
from wallet.auth.principal import Principal
from wallet.graphql.access_log import access_log_field, resolve_access_log
from wallet.selectors import CitizenWallet, ProfileValue, RecordView


def _profile_value(key: str) -> Any:
    def resolve(root: dict[str, ProfileValue], info: Any) -> str | None:
        entry = root.get(key)
        return entry.value if entry else None

    return resolve


class ProfileFieldSource(graphene.ObjectType):
    """Where one profile value came from: the identity provider or the citizen."""

    field_id = graphene.String(required=True)
    source = graphene.String(required=True)
    updated_at = graphene.DateTime()


class ProfileType(graphene.ObjectType):
    class Meta:
        name = "Profile"

    first_name = graphene.String(resolver=_profile_value("first_name"))
    last_name = graphene.String(resolver=_profile_value("last_name"))
    nickname = graphene.String(resolver=_profile_value("nickname"))
    email = graphene.String(resolver=_profile_value("email"))
    phone = graphene.String(resolver=_profile_value("phone"))
    address = graphene.String(resolver=_profile_value("address"))
    preferred_language = graphene.String(resolver=_profile_value("preferred_language"))
    sources = graphene.List(graphene.NonNull(ProfileFieldSource), required=True)

    @staticmethod
    def resolve_sources(root: dict[str, ProfileValue], info: Any) -> list[dict[str, Any]]:
        return [
            {
                "field_id": catalogue.PROFILE.field_id(key),
                "source": v.source,
                "updated_at": v.updated_at,
            }
            for key, v in root.items()
        ]


@dataclass(frozen=True)
class RecordRoot:
    """A decrypted record plus who is looking, so sensitive fields can be held back."""

    record: RecordView
    principal: Principal
    kind: catalogue.RecordKind
    # The whole wallet this record came from, for nested records (an account's loans).
    me: MeRoot | None = None

    def visible(self, key: str) -> bool:
        return field_visible(self.kind.field(key), self.principal.loa)

    def value(self, key: str) -> Any:
        if not self.visible(key):
            return None
        value = self.record.get(key)
        if value is None:
            return None
        # Payloads are JSON: dates, times and decimals travel as strings and are typed again here.
        decode = _DECODERS.get(self.kind.field(key).value_type)
        return decode(value) if decode else value

    def withheld(self) -> list[str]:
        return [self.kind.field_id(key) for key in self.kind.field_keys() if not self.visible(key)]


_DECODERS: dict[catalogue.ValueType, Any] = {
    catalogue.ValueType.DATE: date.fromisoformat,
    catalogue.ValueType.DATETIME: datetime.fromisoformat,
    catalogue.ValueType.DECIMAL: Decimal,
}


def record_value(key: str) -> Any:
    def resolve(root: RecordRoot, info: Any) -> Any:
        return root.value(key)

    return resolve


class RecordSource(graphene.ObjectType):
    """Where a record came from and how fresh it is."""

    source = graphene.String(required=True)
    fetched_at = graphene.DateTime(required=True)
    upstream_modified_at = graphene.DateTime()
    state = graphene.String(required=True)


def _record_origin(root: RecordRoot, info: Any) -> dict[str, Any]:
    record = root.record
    return {
        "source": record.source,
        "fetched_at": record.fetched_at,
        "upstream_modified_at": record.upstream_modified_at,
        "state": record.state,
    }


class RecordMetaFields:
    """Fields every record type carries (graphene collects fields from mixins too)."""

    origin = graphene.Field(RecordSource, required=True, resolver=_record_origin)
    withheld_fields = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="Catalogue ids of fields held back: they need a stronger login.",
        resolver=lambda root, info: root.withheld(),
    )


@dataclass(frozen=True)
class MeRoot:
    wallet: CitizenWallet
    principal: Principal


class WalletProfileMeFields:
    """The wallet's own part of `Me`, first half: the profile. The root schema joins the core's
    parts with the apps' parts (the order of its bases is the order of the fields)."""

    profile = graphene.Field(ProfileType, required=True)
    previous_wallet_erased_at = graphene.DateTime(
        description=(
            "Set when this is a new wallet, started after your earlier one was erased (then): "
            "nothing of the earlier wallet is in it."
        )
    )

    @staticmethod
    def resolve_profile(root: MeRoot, info: Any) -> dict[str, ProfileValue]:
        return root.wallet.profile

    @staticmethod
    def resolve_previous_wallet_erased_at(root: MeRoot, info: Any) -> datetime | None:
        return root.principal.citizen.previous_wallet_erased_at


class WalletAccessLogMeFields:
    """The wallet's own part of `Me`, second half: who read what."""

    access_log = access_log_field()

    @staticmethod
    def resolve_access_log(root: MeRoot, info: Any, **page: Any) -> Any:
        return resolve_access_log(root, info, **page)
