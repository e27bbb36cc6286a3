"""The libraries' Sierra ILS (REST v6): library accounts, loans, holds and fines, for citizens
who linked their card. See connectors.conf for the declaration below; the connector itself is
in connector.py."""

from connectors.conf import ConnectorPackage, Setting

CONNECTOR = ConnectorPackage(
    source="library",
    connector="connectors.library.connector.LibraryConnector",
    settings=(
        Setting(
            "BASE_URL",
            default="http://127.0.0.1:8100/library/iii/sierra-api/v6/",
            env="LIBRARY_API_URL",
            help="Sierra's API root; its token endpoint is `token` under it",
        ),
        Setting("CLIENT_KEY", secret=True, env="LIBRARY_CLIENT_KEY", help="the Sierra API key"),
        Setting(
            "CLIENT_SECRET", secret=True, env="LIBRARY_CLIENT_SECRET", help="its Sierra secret"
        ),
        Setting(
            "LINK_ATTEMPTS",
            int,
            default=5,
            env="LIBRARY_LINK_ATTEMPTS",
            help="card-linking attempts per citizen and per card in the window",
        ),
        Setting(
            "LINK_WINDOW_MINUTES",
            int,
            default=15,
            env="LIBRARY_LINK_WINDOW_MINUTES",
            help="the linking attempts' window",
        ),
    ),
)
