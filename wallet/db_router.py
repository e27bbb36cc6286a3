"""Send the key store's tables to the "keys" database and everything else to "default"."""

from __future__ import annotations

from typing import Any

KEYSTORE = "keys"
KEYSTORE_APP_LABEL = "wallet"
KEYSTORE_MODELS = {"citizenkey"}


def _is_keystore(app_label: str, model_name: str | None) -> bool:
    return app_label == KEYSTORE_APP_LABEL and (model_name or "").lower() in KEYSTORE_MODELS


class KeyStoreRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return (
            KEYSTORE if _is_keystore(model._meta.app_label, model._meta.model_name) else "default"
        )

    db_for_write = db_for_read

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        if model_name is None:  # RunPython / RunSQL without a model: the data database only
            return db == "default"
        return (db == KEYSTORE) == _is_keystore(app_label, model_name)
