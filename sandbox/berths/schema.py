import graphene

from sandbox.berths.graphql.queries import Query

schema = graphene.Schema(query=Query)
