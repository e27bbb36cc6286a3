"""The root GraphQL schema: it only puts each app's pieces together.

Composition root (with wallet.settings, wallet.urls, wallet.celery, wallet.wsgi): it joins the
apps' types into `Me`, `Query` and `Mutation`. The rest of `wallet` is the core and imports no
app (pyproject.toml, [tool.importlinter]).
"""

import graphene

from connectors.graphql.mutations import Mutation as ConnectorMutation
from connectors.graphql.queries import Query as ConnectorQuery
from connectors.graphql.types import ConnectorMeFields
from connectors.youth.graphql import YouthMeFields
from consent.graphql.mutations import Mutation as ConsentMutation
from consent.graphql.queries import Query as ConsentQuery
from consent.graphql.types import ConsentMeFields
from wallet.graphql.mutations import Mutation as WalletMutation
from wallet.graphql.queries import resolve_me
from wallet.graphql.types import WalletAccessLogMeFields, WalletProfileMeFields


# graphene lists the fields of the last base first: consents, the connectors' records and
# sources, the profile, the youth card, the access log (the order schema.graphql has always had).
class Me(
    WalletAccessLogMeFields,
    YouthMeFields,
    WalletProfileMeFields,
    ConnectorMeFields,
    ConsentMeFields,
    graphene.ObjectType,
):
    """The signed-in citizen's own data: profile, records from every source, their freshness,
    consents and requests, and who read what."""


class Query(ConnectorQuery, ConsentQuery, graphene.ObjectType):
    me = graphene.Field(Me, resolver=resolve_me, description="The signed-in citizen's own data.")


class Mutation(WalletMutation, ConnectorMutation, ConsentMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
