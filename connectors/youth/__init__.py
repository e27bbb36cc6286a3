"""The youth-membership service (GraphQL): membership cards. See connectors.conf for the
declaration below; the connector itself is in connector.py."""

from connectors.conf import ConnectorPackage, Setting

CONNECTOR = ConnectorPackage(
    source="youth",
    connector="connectors.youth.connector.YouthConnector",
    settings=(
        Setting(
            "BASE_URL",
            default="http://127.0.0.1:8100/youth/graphql/",
            env="YOUTH_API_URL",
            help="the service's GraphQL endpoint (an admin can override it)",
        ),
        Setting(
            "SCOPE", default="youth", env="YOUTH_API_SCOPE", help="the scope its tokens ask for"
        ),
    ),
)
