"""The root GraphQL schema: it only puts each app's pieces together."""

import graphene

from connectors.graphql.mutations import Mutation as ConnectorMutation
from connectors.graphql.queries import Query as ConnectorQuery
from connectors.graphql.types import ConnectorMeFields
from consent.graphql.mutations import Mutation as ConsentMutation
from consent.graphql.queries import Query as ConsentQuery
from consent.graphql.types import ConsentMeFields
from wallet.graphql.mutations import Mutation as WalletMutation
from wallet.graphql.queries import resolve_me
from wallet.graphql.types import WalletMeFields


class Me(WalletMeFields, ConnectorMeFields, ConsentMeFields, graphene.ObjectType):
    """The signed-in citizen's own data: profile, records from every source, their freshness,
    consents and requests, and who read what."""


class Query(ConnectorQuery, ConsentQuery, graphene.ObjectType):
    me = graphene.Field(Me, resolver=resolve_me, description="The signed-in citizen's own data.")


class Mutation(WalletMutation, ConnectorMutation, ConsentMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
