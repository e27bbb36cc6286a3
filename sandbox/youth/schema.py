import graphene

from sandbox.youth.graphql.queries import Query

schema = graphene.Schema(query=Query)
