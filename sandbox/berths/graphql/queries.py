from __future__ import annotations

import uuid
from typing import Any

import graphene
from django.db.models import QuerySet
from graphene_django import DjangoConnectionField
from graphql import GraphQLResolveInfo
from graphql_relay import from_global_id

from sandbox.berths import selectors
from sandbox.berths.graphql.errors import PERMISSION_DENIED, VENEPAIKKA_ERROR, BerthServiceError
from sandbox.berths.graphql.permissions import service_required, token_check, token_required
from sandbox.berths.graphql.types import BerthLeaseNode, LeaseStatus, ProfileNode
from sandbox.berths.models import BerthLease, CustomerProfile


def _citizen_from_global_id(global_id: str) -> uuid.UUID:
    try:
        type_name, raw_id = from_global_id(global_id)
        if type_name != ProfileNode._meta.name:
            raise ValueError(type_name)
        return uuid.UUID(raw_id)
    except (ValueError, TypeError) as exc:
        raise BerthServiceError(VENEPAIKKA_ERROR, "Must receive a ProfileNode id.") from exc


class Query(graphene.ObjectType):
    berth_profile = graphene.Field(
        ProfileNode,
        id=graphene.ID(required=True),
        description="A customer's berth profile by ProfileNode id (null when there is none).",
    )
    berth_leases = DjangoConnectionField(
        BerthLeaseNode,
        statuses=graphene.List(LeaseStatus),
        start_year=graphene.Int(),
        order_by=graphene.String(description="Supports only `createdAt` and `-createdAt`."),
        description="`BerthLeases` are ordered by `startDate/endDate` in descending order, "
        "and `createdAt` in ascending order by default. Requires a service-account token.",
    )

    @staticmethod
    @token_required
    def resolve_berth_profile(
        root: Any, info: GraphQLResolveInfo, id: str
    ) -> CustomerProfile | None:
        citizen = _citizen_from_global_id(id)
        check = token_check(info)
        # As upstream: a customer reads their own profile; someone else's is forbidden.
        if not check.is_service and check.subject != str(citizen):
            raise BerthServiceError(PERMISSION_DENIED)
        return selectors.customer_profile_get(citizen=citizen)

    @staticmethod
    @service_required
    def resolve_berth_leases(
        root: Any,
        info: GraphQLResolveInfo,
        statuses: list[Any] | None = None,
        start_year: int | None = None,
        order_by: str | None = None,
        **_: Any,
    ) -> QuerySet[BerthLease]:
        if order_by is not None and order_by not in selectors.ORDER_BY_CHOICES:
            raise BerthServiceError(
                VENEPAIKKA_ERROR, f"Select a valid choice. {order_by} is not one of the choices."
            )
        # graphene hands enum arguments over as members; the model stores their values.
        values = [getattr(status, "value", status) for status in statuses or []]
        return selectors.berth_lease_list(statuses=values, start_year=start_year, order_by=order_by)
