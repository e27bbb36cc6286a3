"""The root GraphQL schema: it only puts each app's pieces together."""

import graphene

from connectors.graphql.mutations import Mutation as ConnectorMutation
from connectors.graphql.queries import Query as ConnectorQuery
from connectors.graphql.types import ConnectorMeFields
from wallet.graphql.mutations import Mutation as WalletMutation
from wallet.graphql.queries import resolve_me
from wallet.graphql.types import WalletMeFields


class Me(WalletMeFields, ConnectorMeFields, graphene.ObjectType):
    """The signed-in citizen's own data: profile, records from every source, their freshness."""


class Query(ConnectorQuery, graphene.ObjectType):
    me = graphene.Field(Me, resolver=resolve_me, description="The signed-in citizen's own data.")


class Mutation(WalletMutation, ConnectorMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
