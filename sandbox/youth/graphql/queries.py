from __future__ import annotations

import uuid
from typing import Any

import graphene
from django.db.models import QuerySet
from graphene_django import DjangoConnectionField
from graphql import GraphQLResolveInfo
from graphql_relay import from_global_id

from sandbox.youth import selectors
from sandbox.youth.graphql.errors import GENERAL_ERROR, YouthServiceError
from sandbox.youth.graphql.permissions import service_required, token_required
from sandbox.youth.graphql.types import YouthProfileNode
from sandbox.youth.models import YouthProfile


def _citizen_from_global_id(global_id: str) -> uuid.UUID:
    """``YouthProfileNode:<uuid>`` in Relay's base64; anything else is the real service's
    GENERAL_ERROR (it fails while parsing the id, before looking anything up)."""
    try:
        type_name, raw_id = from_global_id(global_id)
        if type_name != YouthProfileNode._meta.name:
            raise ValueError(type_name)
        return uuid.UUID(raw_id)
    except (ValueError, TypeError) as exc:
        raise YouthServiceError(GENERAL_ERROR, "Invalid YouthProfileNode id") from exc


class Query(graphene.ObjectType):
    youth_profile = graphene.Field(
        YouthProfileNode,
        id=graphene.ID(required=True),
        description="Get a youth profile by youth profile ID (null when there is none).",
    )
    youth_profiles = DjangoConnectionField(
        YouthProfileNode,
        membership_number=graphene.String(),
        description="All youth profiles, paged with Relay. Requires a service-account token.",
    )

    @staticmethod
    @token_required
    def resolve_youth_profile(root: Any, info: GraphQLResolveInfo, id: str) -> YouthProfile | None:
        citizen = _citizen_from_global_id(id)
        check = info.context.youth_token
        # A citizen sees only their own card; others' are "not there", as in the real service.
        if not check.is_service and check.claims.get("sub") != str(citizen):
            return None
        return selectors.youth_profile_get(citizen=citizen)

    @staticmethod
    @service_required
    def resolve_youth_profiles(
        root: Any, info: GraphQLResolveInfo, membership_number: str | None = None, **_: Any
    ) -> QuerySet[YouthProfile]:
        return selectors.youth_profile_list(membership_number=membership_number)
