"""The root GraphQL schema: it only puts each app's pieces together."""

import graphene

from connectors.graphql.mutations import Mutation as ConnectorMutation
from wallet.graphql.mutations import Mutation as WalletMutation
from wallet.graphql.queries import Query as WalletQuery


class Query(WalletQuery, graphene.ObjectType):
    pass


class Mutation(WalletMutation, ConnectorMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
