"""Shared set-up for benchmarks: a throw-away wallet database and a real sandbox."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def django_setup(database_dir: Path) -> None:
    """Point the wallet at fresh SQLite files (unless DATABASE_URL / KEYSTORE_DATABASE_URL are
    set) and migrate both databases."""
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{database_dir / 'bench-wallet.sqlite3'}")
    os.environ.setdefault(
        "KEYSTORE_DATABASE_URL", f"sqlite:///{database_dir / 'bench-keys.sqlite3'}"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallet.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", database="keys", verbosity=0, interactive=False)


@contextmanager
def wallet_with_sandbox() -> Iterator[object]:
    """A migrated wallet database and a running sandbox the wallet's settings point at."""
    with tempfile.TemporaryDirectory(prefix="wallet-bench-") as workdir:
        django_setup(Path(workdir))
        from django.conf import settings

        from sandbox.harness import start_sandbox

        with start_sandbox(
            wallet_client_secret=settings.OIDC_RP_CLIENT_SECRET,
            connector_client_secret=settings.CONNECTOR_CLIENT_SECRET,
            library_client_key=settings.CONNECTORS["library"]["CLIENT_KEY"],
            library_client_secret=settings.CONNECTORS["library"]["CLIENT_SECRET"],
        ) as sandbox:
            issuer = sandbox.issuer
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # Django's test Client
            settings.OIDC_ISSUER = issuer
            settings.OIDC_OP_JWKS_ENDPOINT = sandbox.jwks_url
            settings.OIDC_OP_TOKEN_ENDPOINT = sandbox.token_url
            settings.CONNECTOR_TOKEN_ENDPOINT = sandbox.token_url
            settings.CONNECTORS["youth"] = {
                **settings.CONNECTORS["youth"],
                "BASE_URL": sandbox.youth_graphql_url,
            }
            yield sandbox


@dataclass
class Comparison:
    name: str
    subject_per_second: float
    baseline_per_second: float

    @property
    def ratio(self) -> float:
        """Subject speed as a fraction of the baseline's (1.0 = as fast, 0.5 = half as fast)."""
        return self.subject_per_second / self.baseline_per_second


def compare(
    name: str,
    subject: Callable[[], object],
    baseline: Callable[[], object],
    *,
    rounds: int,
    calls: int,
) -> Comparison:
    """Run both side by side in alternating rounds (the machine is noisy) and compare medians."""
    for _ in range(max(calls // 10, 3)):  # warm caches and connections
        subject()
        baseline()
    subject_rates, baseline_rates = [], []
    for round_number in range(rounds):
        pair = [(subject, subject_rates), (baseline, baseline_rates)]
        for fn, rates in pair if round_number % 2 == 0 else reversed(pair):
            started = time.perf_counter()
            for _ in range(calls):
                fn()
            rates.append(calls / (time.perf_counter() - started))
    return Comparison(name, statistics.median(subject_rates), statistics.median(baseline_rates))


def compare_best(
    name: str,
    subject: Callable[[], object],
    baseline: Callable[[], object],
    *,
    rounds: int,
    calls: int,
) -> Comparison:
    """For microsecond-scale work: alternate blocks and keep each side's best block, which is
    the least disturbed by whatever else the machine was doing."""
    best = {subject: 0.0, baseline: 0.0}
    for round_number in range(rounds):
        order = (subject, baseline) if round_number % 2 == 0 else (baseline, subject)
        for fn in order:
            started = time.perf_counter()
            for _ in range(calls):
                fn()
            best[fn] = max(best[fn], calls / (time.perf_counter() - started))
    return Comparison(name, best[subject], best[baseline])
