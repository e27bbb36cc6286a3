"""Each connector's effective configuration: the admin's settings over the connector's own
(its entry in settings.CONNECTORS, see connectors.conf and Connector.config_defaults).

The client secret an admin enters is sealed under the wallet's own system key
(`wallet.vault.system_vault`: a key-store entry like a citizen's, so KEK rotation covers it); it
is never shown back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from connectors import base
from connectors.base import ConfigDefaults
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


def _open_secret(config: ConnectorConfig) -> str:
    sealed = config.client_secret_sealed
    assert sealed is not None
    return system_vault().open_text(
        CONNECTOR_CLIENT_SECRET, row_id=config.source, ciphertext=sealed
    )


_cache: dict[tuple[str, ConfigDefaults], tuple[float, EffectiveConfig]] = {}
_cache_lock = threading.Lock()


def effective_config(source: str) -> EffectiveConfig:
    """The admin's row over the connector's own defaults (its settings); a blank token URL is
    whatever the connector derives (Connector.token_url_for: the library's follows its base
    URL)."""
    connector = base.connector_for(source)
    defaults = connector.config_defaults()
    cache_key = (source, defaults)
    with _cache_lock:
        cached = _cache.get(cache_key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
    row = ConnectorConfig.objects.filter(source=source).first()
    base_url = row.base_url if row and row.base_url else defaults.base_url
    if row and row.token_url:
        token_url = row.token_url
    else:  # an admin's base URL may bring its own token endpoint
        token_url = connector.token_url_for(base_url=base_url, default=defaults.token_url)
    result = EffectiveConfig(
        source=source,
        enabled=row.enabled if row else True,
        sweep_interval_minutes=row.sweep_interval_minutes if row else 0,
        base_url=base_url,
        token_url=token_url,
        client_id=(row.client_id if row and row.client_id else defaults.client_id),
        client_secret=(
            _open_secret(row) if row and row.client_secret_sealed else defaults.client_secret
        ),
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
