"""Start-up checks of the connectors' settings (`settings.CONNECTORS`, see connectors.conf).

Every entry must name a connector package of that source, with only the settings the package
declares, each of its declared type. A required secret that is not set is an error in
production and a warning in development (DJANGO_DEBUG), where a source may be left unconfigured.
The app's `ready()` stops start-up on the same errors, so a server never runs with them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from connectors import conf


def connector_settings_messages() -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for problem in conf.problems(settings.CONNECTORS):
        if problem.missing_secret and settings.DEBUG:
            messages.append(checks.Warning(problem.message, id="connectors.W001"))
        else:
            messages.append(checks.Error(problem.message, id="connectors.E001"))
    return messages


@checks.register()
def connector_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return connector_settings_messages()


def connector_settings_validate() -> None:
    """Raise ImproperlyConfigured listing every error the check would report."""
    errors = [m.msg for m in connector_settings_messages() if m.is_serious()]
    if errors:
        raise ImproperlyConfigured("Connector settings: " + "; ".join(errors))
