"""`rotate_kek` against re-encrypting every row (the approach of re-saving every row), side by
side on the same citizens, plus the rotation's peak memory at two sizes.

Each citizen has a data key, a profile and `records` data records, all sealed as the wallet
seals them. The baseline gives each citizen a new key and re-seals and re-saves each of their
rows, which is what a key change costs when the key encrypts the rows directly.
"""

from __future__ import annotations

import base64
import itertools
import os
import statistics
import time
import tracemalloc
import uuid
from typing import Any

BATCH = 1000


def _kek() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _seed(count: int, *, records: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from wallet.db_router import KEYSTORE
    from wallet.models import (
        PROFILE_PAYLOAD,
        RECORD_PAYLOAD,
        Citizen,
        CitizenKey,
        DataRecord,
        Profile,
    )
    from wallet.vault import citizen_key_new

    now = timezone.now()
    for start in range(0, count, BATCH):
        citizens, keys, profiles, rows = [], [], [], []
        for _ in range(min(BATCH, count - start)):
            citizen = Citizen(issuer="bench", subject=str(uuid.uuid4()), password="!")
            key, vault = citizen_key_new(citizen.pk)
            citizens.append(citizen)
            keys.append(key)
            profiles.append(
                Profile(
                    citizen=citizen,
                    payload=vault.seal_json(
                        PROFILE_PAYLOAD,
                        row_id=citizen.pk,
                        value={
                            "first_name": {"value": "Bench", "source": "oidc", "updated_at": ""}
                        },
                    ),
                )
            )
            for n in range(records):
                row = DataRecord(
                    citizen=citizen,
                    source="youth",
                    kind="membership",
                    external_key=uuid.uuid4().hex + uuid.uuid4().hex,
                    content_digest="x",
                    fetched_at=now,
                )
                row.payload = vault.seal_json(
                    RECORD_PAYLOAD,
                    row_id=row.pk,
                    value={
                        "membership_number": f"{n:06d}",
                        "status": "ACTIVE",
                        "school_name": "Bench school",
                    },
                )
                rows.append(row)
        with transaction.atomic(using=KEYSTORE):
            CitizenKey.objects.bulk_create(keys)
        with transaction.atomic():
            Citizen.objects.bulk_create(citizens)
            Profile.objects.bulk_create(profiles)
            DataRecord.objects.bulk_create(rows)


def _reencrypt_every_row() -> int:
    """The baseline: a new key per citizen, every row opened, re-sealed and saved."""
    from django.db import transaction

    from wallet import crypto
    from wallet.db_router import KEYSTORE
    from wallet.keys import cipher_from_key
    from wallet.models import PROFILE_PAYLOAD, RECORD_PAYLOAD, Citizen, CitizenKey

    saved = 0
    after = None
    while True:
        query = CitizenKey.objects.order_by("citizen_id")
        if after is not None:
            query = query.filter(citizen_id__gt=after)
        keys = list(query[:BATCH])
        if not keys:
            return saved
        after = keys[-1].citizen_id
        with transaction.atomic(), transaction.atomic(using=KEYSTORE):
            for key in keys:
                old = cipher_from_key(key, generation=key.generation)
                generation = key.generation + 1
                data_key = crypto.data_key_generate()
                new = crypto.CitizenCipher(
                    citizen_id=key.citizen_id, generation=generation, data_key=data_key
                )
                for sealed_field in (PROFILE_PAYLOAD, RECORD_PAYLOAD):
                    rows = sealed_field.model._default_manager.filter(citizen_id=key.citizen_id)
                    for row in rows:
                        row_id = sealed_field.row_id_of(row)
                        plaintext = sealed_field.open(old, row_id, row.payload)
                        row.payload = sealed_field.seal(new, row_id, plaintext)
                        row.save(update_fields=["payload"])
                        saved += 1
                key.kek_version, key.wrapped_key = crypto.data_key_wrap(
                    data_key=data_key, citizen_id=key.citizen_id, generation=generation
                )
                key.generation = generation
                key.save()
                Citizen.objects.filter(pk=key.citizen_id).update(data_key_generation=generation)


def _rotation_peak_bytes(settings: Any, version: int) -> tuple[int, int]:
    from wallet.keys import kek_rotate

    settings.WALLET_KEKS += f",{version}:{_kek()}"
    tracemalloc.start()
    summary = kek_rotate(batch_size=BATCH)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, summary.rewrapped


def run(*, citizens: int, records: int) -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    from bench.setup import django_setup

    with tempfile.TemporaryDirectory(prefix="wallet-bench-rotation-") as workdir:
        django_setup(Path(workdir))
        from django.conf import settings

        from wallet.keys import kek_rotate

        settings.WALLET_KEKS = f"1:{_kek()}"

        small = max(citizens // 10, 1)
        _seed(small, records=records)
        small_peak, _ = _rotation_peak_bytes(settings, 2)
        _seed(citizens - small, records=records)
        large_peak, _ = _rotation_peak_bytes(settings, 3)

        settings.WALLET_KEKS += f",4:{_kek()}"
        started = time.perf_counter()
        summary = kek_rotate(batch_size=BATCH)
        rotate_seconds = time.perf_counter() - started

        started = time.perf_counter()
        rows_saved = _reencrypt_every_row()
        resave_seconds = time.perf_counter() - started

        return {
            "benchmark": "rotate_kek vs re-encrypting every row",
            "citizens": citizens,
            "rows_per_citizen": records + 1,
            "rotate_kek_seconds": round(rotate_seconds, 2),
            "rotate_kek_rewrapped": summary.rewrapped,
            "rotate_kek_data_rows_rewritten": summary.data_rows_rewritten,
            "reencrypt_seconds": round(resave_seconds, 2),
            "reencrypt_rows_saved": rows_saved,
            "speedup": round(resave_seconds / rotate_seconds, 1),
            f"rotate_peak_kib_at_{small}": round(small_peak / 1024),
            f"rotate_peak_kib_at_{citizens}": round(large_peak / 1024),
            "peak_memory_ratio_large_to_small": round(large_peak / small_peak, 2),
        }


# The peer's figure, the baseline of `--postgres`: open-city-profile v2.1.1's `rotate_keys`,
# measured side by side with this wallet on this kind of machine (2 cores, PostgreSQL, 10,000
# citizens), as issue 13 reports it. A constant: the peer is not run here.
PEER_ROTATE_KEYS_MS_PER_CITIZEN = 2.72
PEER_SOURCE = (
    "issue 13: open-city-profile v2.1.1 `rotate_keys` on PostgreSQL, 10,000 citizens, measured "
    "side by side with the wallet on this kind of machine"
)


def _backend_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of one PostgreSQL backend so far, from /proc (None if the server is
    on another machine)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rotate_on_postgres(*, version: int) -> dict[str, Any]:
    """Time `rotate_kek` to KEK `version` (added to the settings unless it is there) over the
    key store the `keys` connection points at: wall time, and the CPU of this process and of the
    key store's PostgreSQL backend (steadier than wall time on a shared machine), a key each;
    its statements."""
    from django.conf import settings
    from django.db import connections

    from wallet.db_router import KEYSTORE
    from wallet.keys import kek_rotate
    from wallet.models import CitizenKey

    keystore = connections[KEYSTORE]
    with keystore.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # start from a settled database, not the seed's dirty pages
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
        cursor.execute("SELECT pg_total_relation_size(%s)", [CitizenKey._meta.db_table])
        (key_store_bytes,) = cursor.fetchone()
    statements = [0]
    updates: list[float] = []  # when each batch's UPDATE began

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements[0] += 1
        if sql.lstrip().startswith("UPDATE"):
            updates.append(time.perf_counter())
        return execute(sql, params, many, context)

    if (
        not settings.WALLET_KEKS.startswith(f"{version}:")
        and f",{version}:" not in settings.WALLET_KEKS
    ):
        settings.WALLET_KEKS += f",{version}:{_kek()}"
    backend_before, process_before = _backend_cpu_seconds(backend), time.process_time()
    with keystore.execute_wrapper(count):
        started = time.perf_counter()
        summary = kek_rotate()
        seconds = time.perf_counter() - started
    process_cpu = time.process_time() - process_before
    backend_after = _backend_cpu_seconds(backend)
    backend_cpu = (
        backend_after - backend_before
        if backend_after is not None and backend_before is not None
        else None
    )
    assert summary.failed == summary.changed_meanwhile == summary.left_behind == 0, summary
    # A batch's time, one UPDATE to the next: the first tenth of the batches against the last
    batch_ms = [(b - a) * 1000 for a, b in itertools.pairwise(updates)]
    tenth = max(len(batch_ms) // 10, 1)
    first_ms = statistics.median(batch_ms[:tenth]) if batch_ms else None
    last_ms = statistics.median(batch_ms[-tenth:]) if batch_ms else None
    citizens = summary.rewrapped
    per_citizen_ms = seconds * 1000 / citizens
    return {
        "per_citizen_ms": round(per_citizen_ms, 4),
        "cpu_ms_per_citizen": {
            "rotate_kek": round(process_cpu * 1000 / citizens, 4),
            "postgres": None if backend_cpu is None else round(backend_cpu * 1000 / citizens, 4),
        },
        "rotate_kek_seconds": round(seconds, 2),
        "rotate_kek_rewrapped": summary.rewrapped,
        "rotate_kek_batches": summary.batches,
        "rotate_kek_batch_size": settings.WALLET_KEK_ROTATION_BATCH_SIZE,
        "rotate_kek_statements": statements[0],
        "key_table_mb": round(key_store_bytes / 2**20, 1),
        "batch_ms_first_tenth": None if first_ms is None else round(first_ms, 2),
        "batch_ms_last_tenth": None if last_ms is None else round(last_ms, 2),
        "rotate_kek_data_rows_rewritten": summary.data_rows_rewritten,
        "peer_rotate_keys_ms_per_citizen": PEER_ROTATE_KEYS_MS_PER_CITIZEN,
        "ratio_peer_to_wallet": round(PEER_ROTATE_KEYS_MS_PER_CITIZEN / per_citizen_ms, 1),
    }


def run_postgres(
    *, citizens: int, server_url: str, database: str = "bench_rotation"
) -> dict[str, Any]:
    """`rotate_kek` per citizen on PostgreSQL: `citizens` keys COPYed into a fresh key store
    (`database`_keys, beside an empty `database`; both dropped after), then a new KEK."""
    import tempfile
    from pathlib import Path

    from bench.seed_postgres import database_pair, seed
    from bench.setup import django_setup

    with database_pair(server_url, database) as pair, tempfile.TemporaryDirectory() as workdir:
        os.environ["DATABASE_URL"] = pair.data_url
        os.environ["KEYSTORE_DATABASE_URL"] = pair.keys_url
        django_setup(Path(workdir))
        from django.conf import settings
        from django.db import connections

        settings.WALLET_KEKS = f"1:{_kek()}"
        seeded = seed(pair, count=citizens, data=False)
        try:
            rotation = rotate_on_postgres(version=2)
        finally:
            connections.close_all()
    return {
        "benchmark": "rotate_kek per citizen on PostgreSQL against the peer's rotate_keys",
        "database": "postgresql",
        "citizens": citizens,
        **rotation,
        "peer_source": PEER_SOURCE,
        "seed": seeded.as_dict(),
    }
