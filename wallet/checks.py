"""Start-up checks: key configuration mistakes stop the wallet before it serves a request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from wallet import crypto


@checks.register(checks.Tags.security)
def key_configuration(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    try:
        crypto.SettingsKekProvider(settings.WALLET_KEKS)
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="wallet.E001"))
    try:
        crypto.blind_index(purpose="startup-check", value="x")
    except (ImproperlyConfigured, ValueError) as exc:
        errors.append(checks.Error(f"WALLET_INDEX_KEY: {exc}", id="wallet.E002"))
    return errors
