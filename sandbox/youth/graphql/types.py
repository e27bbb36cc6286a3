"""Types named and shaped like the real youth-membership service's schema."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay
from graphene_django import DjangoObjectType
from graphql import GraphQLResolveInfo

from sandbox.relay import CountConnection
from sandbox.youth import models

LanguageAtHome = graphene.Enum.from_enum(models.LanguageAtHome)
MembershipStatus = graphene.Enum.from_enum(models.MembershipStatus)


class AdditionalContactPersonNode(DjangoObjectType):
    class Meta:
        model = models.AdditionalContactPerson
        fields = ("id", "first_name", "last_name", "phone", "email")
        interfaces = (relay.Node,)
        connection_class = CountConnection


class YouthProfileNode(DjangoObjectType):
    class Meta:
        model = models.YouthProfile
        fields = (
            "id",
            "membership_number",
            "expiration",
            "birth_date",
            "school_name",
            "school_class",
            "photo_usage_approved",
            "approver_first_name",
            "approver_last_name",
            "approver_phone",
            "approver_email",
            "approved_time",
            "additional_contact_persons",
        )
        interfaces = (relay.Node,)
        connection_class = CountConnection

    language_at_home = LanguageAtHome(
        required=True, description="The language which is spoken in the youth's home."
    )
    membership_status = MembershipStatus(
        required=True, description="Membership status based on expiration and approved_time"
    )

    @staticmethod
    def resolve_language_at_home(root: models.YouthProfile, info: GraphQLResolveInfo) -> Any:
        return models.LanguageAtHome(root.language_at_home)

    @staticmethod
    def resolve_membership_status(root: models.YouthProfile, info: GraphQLResolveInfo) -> Any:
        return models.MembershipStatus(root.membership_status)
