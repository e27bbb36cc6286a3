"""A fourth source that exists only in the tests: "fake", a made-up upstream with one kind of
record (things). It is added exactly as a real source is: this package, plus one entry in
settings.CONNECTORS (tests/connectors/test_fourth_source.py)."""

from connectors.conf import ConnectorPackage, Setting

CONNECTOR = ConnectorPackage(
    source="fake",
    connector="tests.connectors.fake_source.connector.FakeConnector",
    settings=(
        Setting("BASE_URL", help="the upstream's API root"),
        Setting("API_KEY", secret=True, help="sent as X-Api-Key"),
        Setting("TIMEOUT_SECONDS", float, default=5.0),
    ),
)
