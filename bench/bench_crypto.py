"""Per-record encryption cost against bare AESGCM calls on the same data, side by side.

- record level: `CitizenCipher.seal_json` + `open_json` of a youth card against doing it by
  hand (json.dumps, a fresh nonce, AESGCM.encrypt; AESGCM.decrypt, json.loads);
- bytes level (stricter): `seal` + `open` of the same serialized bytes against a fresh nonce,
  AESGCM.encrypt and AESGCM.decrypt with the same associated data.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from bench.setup import compare_best

YOUTH_CARD = {
    "membership_number": "004213",
    "status": "ACTIVE",
    "expiration": "2027-08-31",
    "birth_date": "2011-05-14",
    "school_name": "Kallion yhteiskoulu",
    "school_class": "9B",
    "language_at_home": "FINNISH",
    "photo_usage_approved": True,
    "approver_first_name": "Minna",
    "approver_last_name": "Virtanen",
    "approver_phone": "+358 40 123 4567",
    "approver_email": "minna.virtanen@example.com",
    "additional_contact_persons": [
        {
            "first_name": "Juha",
            "last_name": "Virtanen",
            "phone": "+358 50 765 4321",
            "email": "juha.virtanen@example.com",
        }
    ],
}


def run(*, rounds: int, calls: int) -> dict[str, Any]:
    import django
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallet.settings")
    django.setup()
    from wallet.crypto import CitizenCipher

    data_key = os.urandom(32)
    cipher = CitizenCipher(citizen_id=uuid.uuid4(), generation=1, data_key=data_key)
    bare = AESGCM(data_key)
    row_id = uuid.uuid4()
    where = {"table": "wallet_datarecord", "row_id": row_id, "field": "payload"}
    plaintext = json.dumps(
        YOUTH_CARD, separators=(",", ":"), sort_keys=True, ensure_ascii=False
    ).encode()
    aad = cipher._aad("wallet_datarecord", row_id, "payload")  # the same associated data

    def wallet_record() -> None:
        cipher.open_json(ciphertext=cipher.seal_json(value=YOUTH_CARD, **where), **where)

    def bare_record() -> None:
        nonce = os.urandom(12)
        body = json.dumps(YOUTH_CARD, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        sealed = bare.encrypt(nonce, body.encode(), aad)
        json.loads(bare.decrypt(nonce, sealed, aad))

    def wallet_bytes() -> None:
        cipher.open(ciphertext=cipher.seal(plaintext=plaintext, **where), **where)

    def bare_bytes() -> None:
        nonce = os.urandom(12)
        bare.decrypt(nonce, bare.encrypt(nonce, plaintext, aad), aad)

    record = compare_best("record", wallet_record, bare_record, rounds=rounds, calls=calls * 50)
    raw = compare_best("bytes", wallet_bytes, bare_bytes, rounds=rounds, calls=calls * 50)
    return {
        "benchmark": "per-record encrypt+decrypt vs bare AESGCM",
        "record_bytes": len(plaintext),
        "record_level_cost_ratio": round(1 / record.ratio, 3),
        "bytes_level_cost_ratio": round(1 / raw.ratio, 3),
        "wallet_record_us": round(1e6 / record.subject_per_second, 2),
        "bare_record_us": round(1e6 / record.baseline_per_second, 2),
        "wallet_bytes_us": round(1e6 / raw.subject_per_second, 2),
        "bare_bytes_us": round(1e6 / raw.baseline_per_second, 2),
        "rounds": rounds,
        "calls_per_round": calls * 50,
    }
