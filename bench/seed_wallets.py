"""Wallets for the sandbox's bench citizens: `python -m bench.seed_wallets --citizens N`.

`python -m sandbox seed --citizens N` creates N people upstream; this creates their wallets
(citizens keyed on the same `sub`s, and library links for the patrons among them, as if each had
linked their card), so sweeps have someone to cover. Bench and `make seed` only: production
wallets are made by people logging in.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

BATCH = 1000


def seed_wallets(*, count: int, citizen_seed: int, issuer: str) -> dict[str, int]:
    from django.db import transaction

    from connectors.library.connector import barcode_index, patron_index
    from connectors.models import LIBRARY_PATRON_ID, LibraryLink
    from sandbox import demo
    from wallet.db_router import KEYSTORE
    from wallet.models import Citizen, CitizenKey
    from wallet.vault import citizen_key_new

    existing = set(Citizen.objects.filter(issuer=issuer).values_list("subject", flat=True))
    created = links = 0
    for start in range(0, count, BATCH):
        citizens, keys, library = [], [], []
        for index in range(start, min(start + BATCH, count)):
            subject = str(demo.bench_citizen(citizen_seed, index))
            if subject in existing:
                continue
            citizen = Citizen(issuer=issuer, subject=subject, password="!")
            key, vault = citizen_key_new(citizen.pk)
            citizens.append(citizen)
            keys.append(key)
            if demo.bench_is_patron(index):
                patron_id = str(demo.bench_patron_id(index))
                library.append(
                    LibraryLink(
                        citizen=citizen,
                        patron_id_sealed=vault.seal_text(
                            LIBRARY_PATRON_ID, row_id=citizen.pk, text=patron_id
                        ),
                        patron_index=patron_index(patron_id),
                        barcode_index=barcode_index(demo.bench_patron_barcode(index)),
                    )
                )
        with transaction.atomic(using=KEYSTORE):
            CitizenKey.objects.bulk_create(keys)
        with transaction.atomic():
            Citizen.objects.bulk_create(citizens)
            LibraryLink.objects.bulk_create(library)
        created += len(citizens)
        links += len(library)
    return {"citizens_created": created, "library_links_created": links}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed_wallets")
    parser.add_argument("--citizens", type=int, required=True)
    parser.add_argument("--citizen-seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallet.settings")
    import django

    django.setup()
    from django.conf import settings

    started = time.perf_counter()
    result = seed_wallets(
        count=args.citizens, citizen_seed=args.citizen_seed, issuer=settings.OIDC_ISSUER
    )
    print({**result, "seconds": round(time.perf_counter() - started, 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
