"""The root GraphQL schema: it only puts each app's pieces together.

Composition root (with wallet.settings, wallet.urls, wallet.celery, wallet.wsgi): it joins the
apps' types into `Me`, `Query` and `Mutation`. The rest of `wallet` is the core and imports no
app (pyproject.toml, [tool.importlinter]).

The connectors' part of `Me` is generated from the connectors that `settings.CONNECTORS`
enables (each declares its `me_fields`; their types come from the field catalogue), so the
schema is built by `schema_build()`: once here, at import, for the view (`GRAPHENE["SCHEMA"]`)
and `make schema`; a test that enables another source builds its own with it and serves it by
overriding `GRAPHENE["SCHEMA"]` (tests/connectors/test_fourth_source.py).
"""

import graphene

from connectors import base
from connectors.graphql.mutations import Mutation as ConnectorMutation
from connectors.graphql.queries import Query as ConnectorQuery
from connectors.graphql.types import connector_me_fields
from consent.graphql.mutations import Mutation as ConsentMutation
from consent.graphql.queries import Query as ConsentQuery
from consent.graphql.types import ConsentMeFields
from wallet.graphql.mutations import Mutation as WalletMutation
from wallet.graphql.queries import resolve_me
from wallet.graphql.types import WalletAccessLogMeFields, WalletProfileMeFields

ME_DESCRIPTION = (
    "The signed-in citizen's own data: profile, records from every source, their freshness,\n"
    "consents and requests, and who read what."
)


def schema_build(connectors: list[base.Connector] | None = None) -> graphene.Schema:
    """The wallet's schema with the connectors' `Me` fields of `connectors` (default: those the
    settings enable now)."""
    connector_fields = connector_me_fields(base.connectors() if connectors is None else connectors)

    # graphene lists the fields of the last base first: consents, the connectors' records and
    # sources, the profile, the access log.
    class Me(
        WalletAccessLogMeFields,
        WalletProfileMeFields,
        connector_fields,  # type: ignore[valid-type,misc]
        ConsentMeFields,
        graphene.ObjectType,
    ):
        class Meta:
            description = ME_DESCRIPTION

    class Query(ConnectorQuery, ConsentQuery, graphene.ObjectType):
        me = graphene.Field(
            Me, resolver=resolve_me, description="The signed-in citizen's own data."
        )

    class Mutation(WalletMutation, ConnectorMutation, ConsentMutation, graphene.ObjectType):
        pass

    return graphene.Schema(query=Query, mutation=Mutation)


schema = schema_build()
