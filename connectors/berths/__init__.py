"""The berth-reservations service (GraphQL): boat-berth leases and boats. See connectors.conf
for the declaration below; the connector itself is in connector.py."""

from connectors.conf import ConnectorPackage, Setting

CONNECTOR = ConnectorPackage(
    source="berths",
    connector="connectors.berths.connector.BerthsConnector",
    settings=(
        Setting(
            "BASE_URL",
            default="http://127.0.0.1:8100/berths/graphql/",
            env="BERTHS_API_URL",
            help="the service's GraphQL endpoint (an admin can override it)",
        ),
        Setting(
            "SCOPE", default="berths", env="BERTHS_API_SCOPE", help="the scope its tokens ask for"
        ),
    ),
)
