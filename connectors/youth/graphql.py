"""The youth membership card in GraphQL: its type and its field on `Me`.

Hand-written rather than made by `record_type` because `status` is an enum and the contact
persons are objects. The root schema (wallet/schema.py) composes `YouthMeFields` into `Me`.
"""

from __future__ import annotations

from typing import Any

import graphene

from connectors.youth.catalogue import MEMBERSHIP
from wallet.graphql.types import MeRoot, RecordMetaFields, RecordRoot, record_value


class ContactPerson(graphene.ObjectType):
    first_name = graphene.String()
    last_name = graphene.String()
    phone = graphene.String()
    email = graphene.String()


class YouthMembershipStatus(graphene.Enum):
    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    RENEWING = "RENEWING"
    EXPIRED = "EXPIRED"


class YouthMembershipType(RecordMetaFields, graphene.ObjectType):
    class Meta:
        name = "YouthMembership"

    membership_number = graphene.String(resolver=record_value("membership_number"))
    status = graphene.Field(YouthMembershipStatus, resolver=record_value("status"))
    expiration = graphene.Date(resolver=record_value("expiration"))
    birth_date = graphene.Date(resolver=record_value("birth_date"))
    school_name = graphene.String(resolver=record_value("school_name"))
    school_class = graphene.String(resolver=record_value("school_class"))
    language_at_home = graphene.String(resolver=record_value("language_at_home"))
    photo_usage_approved = graphene.Boolean(resolver=record_value("photo_usage_approved"))
    approver_first_name = graphene.String(resolver=record_value("approver_first_name"))
    approver_last_name = graphene.String(resolver=record_value("approver_last_name"))
    approver_phone = graphene.String(resolver=record_value("approver_phone"))
    approver_email = graphene.String(resolver=record_value("approver_email"))
    additional_contact_persons = graphene.List(
        graphene.NonNull(ContactPerson), resolver=record_value("additional_contact_persons")
    )


class YouthMeFields:
    """The youth connector's part of `Me`: the citizen's membership card, if any."""

    youth_membership = graphene.Field(YouthMembershipType)

    @staticmethod
    def resolve_youth_membership(root: MeRoot, info: Any) -> RecordRoot | None:
        records = root.wallet.records(source="youth", kind="membership")
        return RecordRoot(records[0], root.principal, MEMBERSHIP) if records else None
