"""Relay pieces shared by the GraphQL simulators."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay
from graphql import GraphQLResolveInfo


class CountConnection(relay.Connection):
    """A connection with ``totalCount``, as both city services add to theirs."""

    class Meta:
        abstract = True

    total_count = graphene.Int(required=True)

    @staticmethod
    def resolve_total_count(root: Any, info: GraphQLResolveInfo) -> int:
        return int(root.length)
