"""Types named and shaped like the real berth-reservations schema.

As upstream: berth dimensions are Floats, boat dimensions and prices Decimals (strings in
JSON); piers and harbors are GeoJSON features whose fields sit under ``properties``.
"""

from __future__ import annotations

from typing import Any

import graphene
from django.db.models import QuerySet
from graphene import relay
from graphene_django import DjangoConnectionField, DjangoObjectType
from graphql import GraphQLResolveInfo

from sandbox.berths import models, selectors
from sandbox.relay import CountConnection

LeaseStatus = graphene.Enum.from_enum(models.LeaseStatus)
OrderStatus = graphene.Enum.from_enum(models.OrderStatus)


class HarborProperties(graphene.ObjectType):
    name = graphene.String()


class HarborNode(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    properties = graphene.Field(HarborProperties)

    @staticmethod
    def resolve_properties(root: models.Harbor, info: GraphQLResolveInfo) -> HarborProperties:
        return HarborProperties(name=root.name)


class PierProperties(graphene.ObjectType):
    identifier = graphene.String(required=True)
    harbor = graphene.Field(HarborNode, required=True)


class PierNode(graphene.ObjectType):
    class Meta:
        interfaces = (relay.Node,)

    properties = graphene.Field(PierProperties)

    @staticmethod
    def resolve_properties(root: models.Pier, info: GraphQLResolveInfo) -> PierProperties:
        return PierProperties(identifier=root.identifier, harbor=root.harbor)


class BerthNode(DjangoObjectType):
    class Meta:
        model = models.Berth
        fields = ("id", "number")
        interfaces = (relay.Node,)
        connection_class = CountConnection

    number = graphene.String(required=True)
    width = graphene.Float(required=True, description="width (m)")
    length = graphene.Float(required=True, description="length (m)")
    depth = graphene.Float(description="depth (m)")
    pier = graphene.Field(PierNode, required=True)

    @staticmethod
    def resolve_pier(root: models.Berth, info: GraphQLResolveInfo) -> models.Pier:
        return root.pier


class BoatTypeType(DjangoObjectType):
    class Meta:
        model = models.BoatType
        fields = ("id", "name")

    name = graphene.String()


class BoatNode(DjangoObjectType):
    class Meta:
        model = models.Boat
        fields = ("id", "registration_number", "name", "boat_type", "modified_at")
        interfaces = (relay.Node,)
        connection_class = CountConnection

    length = graphene.Decimal(required=True)
    width = graphene.Decimal(required=True)
    draught = graphene.Decimal()


class OrderNode(DjangoObjectType):
    class Meta:
        model = models.Order
        fields = ("id", "order_number", "due_date", "paid_at")
        interfaces = (relay.Node,)
        connection_class = CountConnection

    status = OrderStatus(required=True)
    price = graphene.Decimal(required=True)
    total_price = graphene.Decimal(required=True)

    @staticmethod
    def resolve_status(root: models.Order, info: GraphQLResolveInfo) -> Any:
        return models.OrderStatus(root.status)


class BerthLeaseNode(DjangoObjectType):
    class Meta:
        model = models.BerthLease
        fields = ("id", "start_date", "end_date", "created_at", "modified_at")
        interfaces = (relay.Node,)
        connection_class = CountConnection

    status = LeaseStatus(required=True)
    is_active = graphene.Boolean(
        required=True,
        description="For a Lease to be active, it has to have `status == PAID` and be in (or "
        "start with) the current season.",
    )
    customer = graphene.Field(lambda: ProfileNode, required=True)
    berth = graphene.Field(BerthNode, required=True)
    order = graphene.Field(OrderNode)

    @staticmethod
    def resolve_status(root: models.BerthLease, info: GraphQLResolveInfo) -> Any:
        return models.LeaseStatus(root.status)

    @staticmethod
    def resolve_customer(root: models.BerthLease, info: GraphQLResolveInfo) -> Any:
        # Only the id is ever asked of it here: no query for the profile row.
        return models.CustomerProfile(id=root.customer_id)


class ProfileNode(DjangoObjectType):
    """A berth customer; its id is the Relay id of the Helsinki profile UUID."""

    class Meta:
        model = models.CustomerProfile
        fields = ("id",)
        interfaces = (relay.Node,)
        connection_class = CountConnection

    boats = DjangoConnectionField(BoatNode)
    berth_leases = DjangoConnectionField(BerthLeaseNode)

    @staticmethod
    def resolve_boats(
        root: models.CustomerProfile, info: GraphQLResolveInfo, **_: Any
    ) -> QuerySet[models.Boat]:
        return selectors.boat_list(owner=root.id)

    @staticmethod
    def resolve_berth_leases(
        root: models.CustomerProfile, info: GraphQLResolveInfo, **_: Any
    ) -> QuerySet[models.BerthLease]:
        return selectors.berth_lease_list(customer=root.id)
