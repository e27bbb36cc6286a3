"""Changing one source's own settings in a test."""

from typing import Any


def connector_settings(settings: Any, source: str, **values: object) -> None:
    """Change some of one source's own settings (its entry in settings.CONNECTORS) for this
    test; `settings` is pytest-django's fixture, which puts them back afterwards."""
    settings.CONNECTORS = {
        **settings.CONNECTORS,
        source: {**settings.CONNECTORS[source], **values},
    }
