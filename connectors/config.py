"""Each connector's effective configuration: the admin's settings over the environment's.

The client secret an admin enters is sealed under the wallet's own system key
(`wallet.vault.system_vault`: a key-store entry like a citizen's, so KEK rotation covers it); it
is never shown back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from connectors.models import CONNECTOR_CLIENT_SECRET, ConnectorConfig
from wallet.vault import system_vault

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class EffectiveConfig:
    source: str
    enabled: bool
    sweep_interval_minutes: int
    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    pin_case_sensitive: bool = True  # library: Sierra's caseSensitivity in patrons/validate

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"EffectiveConfig(source={self.source!r}, base_url={self.base_url!r})"


def sierra_token_url(base_url: str) -> str:
    """Sierra's token endpoint is `token` under its API root: wherever the API is, so is it."""
    return base_url.rstrip("/") + "/token"


def _defaults(source: str) -> tuple[str, str, str, str]:
    """(base URL, token URL, client id, client secret) from the environment. The library's
    token URL is blank: it follows the effective base URL (see effective_config)."""
    if source == "library":
        base = settings.LIBRARY_API_URL.rstrip("/") + "/"
        return base, "", settings.LIBRARY_CLIENT_KEY, settings.LIBRARY_CLIENT_SECRET
    base = {"youth": settings.YOUTH_API_URL, "berths": settings.BERTHS_API_URL}[source]
    return (
        base,
        settings.CONNECTOR_TOKEN_ENDPOINT,
        settings.CONNECTOR_CLIENT_ID,
        settings.CONNECTOR_CLIENT_SECRET,
    )


def _open_secret(config: ConnectorConfig) -> str:
    sealed = config.client_secret_sealed
    assert sealed is not None
    return system_vault().open_text(
        CONNECTOR_CLIENT_SECRET, row_id=config.source, ciphertext=sealed
    )


_cache: dict[tuple[str, tuple[str, ...]], tuple[float, EffectiveConfig]] = {}
_cache_lock = threading.Lock()


def effective_config(source: str) -> EffectiveConfig:
    defaults = _defaults(source)
    cache_key = (source, defaults)
    with _cache_lock:
        cached = _cache.get(cache_key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
    row = ConnectorConfig.objects.filter(source=source).first()
    base_url, token_url, client_id, secret = defaults
    base_url = row.base_url if row and row.base_url else base_url
    if row and row.token_url:
        token_url = row.token_url
    elif source == "library":  # an admin's base URL brings its own token endpoint
        token_url = sierra_token_url(base_url)
    result = EffectiveConfig(
        source=source,
        enabled=row.enabled if row else True,
        sweep_interval_minutes=row.sweep_interval_minutes if row else 0,
        base_url=base_url,
        token_url=token_url,
        client_id=(row.client_id if row and row.client_id else client_id),
        client_secret=(_open_secret(row) if row and row.client_secret_sealed else secret),
        pin_case_sensitive=row.pin_case_sensitive if row else True,
    )
    with _cache_lock:
        _cache[cache_key] = (time.monotonic() + CACHE_SECONDS, result)
    return result


def config_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def connector_secret_set(*, config: ConnectorConfig, secret: str) -> None:
    """Seal and store a new client secret (blank: fall back to the environment's)."""
    config.client_secret_sealed = (
        system_vault().seal_text(CONNECTOR_CLIENT_SECRET, row_id=config.source, text=secret)
        if secret
        else None
    )
    config.save(update_fields=["client_secret_sealed", "updated_at"])
    config_cache_clear()
