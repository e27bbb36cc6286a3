"""The benchmarks' fast seed (bench/seed_postgres.py) writes what the wallet itself would: keys
it unwraps, profiles and records it opens, rows a KEK rotation re-wraps. PostgreSQL only (COPY)."""

from __future__ import annotations

import base64
import os

import pytest
from django.db import connections

from bench.seed_postgres import BENCH_ISSUER, DatabasePair, seed
from wallet.keys import kek_rotate
from wallet.models import Citizen, CitizenKey
from wallet.selectors import citizen_wallet

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _url(alias: str) -> str:
    db = connections[alias].settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def test_seeded_citizens_read_as_the_wallet_wrote_them_and_their_keys_rotate(postgres, settings):
    pair = DatabasePair(_url("default"), _url("keys"), ("", ""))

    result = seed(pair, count=30, data=True, records=2)

    assert (result.citizens, result.data_rows) == (30, 90)  # a profile and two cards each
    citizens = list(Citizen.objects.filter(issuer=BENCH_ISSUER))
    assert len(citizens) == CitizenKey.objects.count() == 30
    for citizen in citizens[:5]:
        wallet = citizen_wallet(citizen=citizen)
        cards = wallet.records(source="youth", kind="membership")
        assert wallet.profile["first_name"].value == "Bench"
        assert len(cards) == 2 and {card.payload["status"] for card in cards} == {"ACTIVE"}
    settings.WALLET_KEKS += ",99:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    summary = kek_rotate(batch_size=7)
    assert (summary.rewrapped, summary.failed, summary.batches) == (30, 0, 5)
    assert citizen_wallet(citizen=citizens[0]).profile["first_name"].value == "Bench"
