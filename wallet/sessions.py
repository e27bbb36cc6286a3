"""Database sessions whose payload is encrypted, not just signed.

The session holds the provider's ID token (for the end-session `id_token_hint`), and an ID token
carries the citizen's name and email. Django's own sessions are only signed base64, which anyone
with a database dump can read; here the payload is AES-GCM sealed under a key derived from
SECRET_KEY.

Each session row also names the citizen signed in to it (`CitizenSession.citizen_id`), so erasing
a citizen deletes every session of theirs, not only the one they erased from.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import uuid
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore

logger = logging.getLogger("django.security.SuspiciousSession")


@functools.cache
def _session_key_for(secret: str) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"wallet-session-encryption")
    return AESGCM(hkdf.derive(secret.encode()))


class SessionStore(DbSessionStore):
    @classmethod
    def get_model_class(cls) -> Any:
        from wallet.models import CitizenSession

        return CitizenSession

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance: Any = super().create_model_instance(data)  # a CitizenSession
        try:
            instance.citizen_id = uuid.UUID(str(data[SESSION_KEY]))
        except (KeyError, ValueError):
            instance.citizen_id = None  # nobody signed in
        return instance

    def _aead(self) -> AESGCM:
        return _session_key_for(settings.SECRET_KEY)

    def encode(self, session_dict: dict[str, Any]) -> str:
        nonce = os.urandom(12)
        plaintext = json.dumps(session_dict, separators=(",", ":")).encode()
        sealed = self._aead().encrypt(nonce, plaintext, self.key_salt.encode())
        return base64.b64encode(nonce + sealed).decode()

    def decode(self, session_data: bytes | str) -> dict[str, Any]:
        try:
            raw = base64.b64decode(session_data)
            return json.loads(self._aead().decrypt(raw[:12], raw[12:], self.key_salt.encode()))
        except (InvalidTag, ValueError):
            logger.warning("Session data corrupted or sealed with another key")
            return {}
