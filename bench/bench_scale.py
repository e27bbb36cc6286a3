"""`make bench-scale`: the wallet at a million citizens on PostgreSQL, against the same wallet at
10,000, side by side.

For each size (`--scale-sizes`, default 10,000, 100,000 and 1,000,000) a data database and a key
store of its own (`bench_scale_<size>` and `bench_scale_<size>_keys`, dropped afterwards) are
migrated and seeded the same way (`bench/seed_postgres.py`: binary COPY, each citizen a data key,
a sealed profile and a sealed youth card), the seed timed. In each, Aino signs in and syncs from
the sandbox's youth simulator as in `bench/bench_me.py`. Then:

- `me`: the same GraphQL query as `bench/bench_me.py`, through Django's test client with a signed-in
  session, against the smallest and the largest population in alternating rounds (the process
  switches its two database connections between the populations' databases before each
  request; both stay open); per-request latency from the median rate of each side;
- `rotate_kek` on each population's key store to a new KEK, per citizen (`bench_rotation`'s
  `rotate_on_postgres`: wall time and CPU of this process and of the PostgreSQL backend), in
  `rotation_rounds` rounds that each rotate every population again (alternating the order); the
  median round counts, every round's figure is kept.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

DATABASE_PREFIX = "bench_scale"


@dataclass
class Population:
    """One population's databases, their connections, and its signed-in client."""

    size: int
    connections: dict[str, Any]  # alias -> DatabaseWrapper
    client: Any = None


def _wrappers_for(pair: Any) -> dict[str, Any]:
    """New connections to a database pair, set up as the wallet's own ("default", "keys")."""
    from django.db import connections
    from django.db.utils import load_backend

    wrappers = {}
    for alias, url in (("default", pair.data_url), ("keys", pair.keys_url)):
        settings_dict = {**connections.settings[alias], "NAME": url.rsplit("/", 1)[1]}
        settings_dict["CONN_MAX_AGE"] = None  # kept open between rounds, like the other's
        wrappers[alias] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(
            settings_dict, alias
        )
    return wrappers


def _use(population: Population) -> None:
    """Point the wallet's connections at this population's databases."""
    from django.db import connections

    for alias, wrapper in population.connections.items():
        connections[alias] = wrapper


@contextmanager
def _populations(sizes: list[int], server_url: str) -> Iterator[tuple[list[Population], Any]]:
    """Each size's migrated databases, and a running sandbox the wallet points at."""
    from bench.seed_postgres import database_pair
    from bench.setup import wallet_with_sandbox

    with ExitStack() as stack:
        pairs = {
            size: stack.enter_context(database_pair(server_url, f"{DATABASE_PREFIX}_{size}"))
            for size in sizes
        }
        # The wallet's settings name the first pair: django_setup migrates it.
        os.environ["DATABASE_URL"] = pairs[sizes[0]].data_url
        os.environ["KEYSTORE_DATABASE_URL"] = pairs[sizes[0]].keys_url
        sandbox = stack.enter_context(wallet_with_sandbox())
        from django.core.management import call_command
        from django.db import connections

        populations = []
        for size in sizes:
            if size == sizes[0]:
                wrappers = {alias: connections[alias] for alias in ("default", "keys")}
                for wrapper in wrappers.values():
                    wrapper.settings_dict["CONN_MAX_AGE"] = None
                    wrapper.close()
            else:
                wrappers = _wrappers_for(pairs[size])
            population = Population(size, wrappers)
            stack.callback(lambda ws=wrappers: [w.close() for w in ws.values()])
            _use(population)
            if size != sizes[0]:
                call_command("migrate", verbosity=0, interactive=False)
                call_command("migrate", database="keys", verbosity=0, interactive=False)
            populations.append(population)
        yield populations, (sandbox, pairs)


def _sign_in_aino(population: Population, sandbox: Any) -> None:
    """Aino among them, signed in and synced from the youth simulator (as bench_me does)."""
    import json

    from django.test import Client

    from bench.bench_me import ME_QUERY
    from connectors.services import citizen_sync
    from sandbox.demo import AINO
    from wallet.services import citizen_get_or_create, profile_update_from_claims

    _use(population)
    citizen, _ = citizen_get_or_create(issuer=sandbox.issuer, subject=str(AINO.sub))
    profile_update_from_claims(
        citizen=citizen,
        claims={
            "given_name": AINO.first_name,
            "family_name": AINO.last_name,
            "email": AINO.email,
        },
    )
    runs = citizen_sync(citizen=citizen, trigger="bench", sources=["youth"])
    assert runs and runs[0].status == "succeeded", [(r.source, r.errors) for r in runs]
    client = Client()
    client.force_login(citizen)
    session = client.session
    session["wallet_loa"] = AINO.loa
    session["oidc_id_token_expiration"] = time.time() + 24 * 3600
    session.save()
    body = json.loads(
        client.post("/graphql/", {"query": ME_QUERY}, content_type="application/json").content
    )
    assert "errors" not in body and body["data"]["me"]["youthMembership"], body
    population.client = client


def _me_request(population: Population) -> Callable[[], None]:
    from bench.bench_me import ME_QUERY

    def request() -> None:
        _use(population)
        response = population.client.post(
            "/graphql/", {"query": ME_QUERY}, content_type="application/json"
        )
        assert response.status_code == 200 and b'"membershipNumber"' in response.content

    return request


def _load_average() -> float:
    return round(os.getloadavg()[0], 2)


def run(
    *, sizes: list[int], rounds: int, calls: int, server_url: str, rotation_rounds: int = 3
) -> dict[str, Any]:
    from django.conf import settings

    from bench.bench_rotation import _kek, rotate_on_postgres
    from bench.seed_postgres import seed
    from bench.setup import compare

    sizes = sorted(set(sizes))
    result: dict[str, Any] = {
        "benchmark": "the wallet at scale on PostgreSQL: seed, me latency, rotate_kek",
        "sizes": sizes,
        "seed": {},
        "rotation": {},
    }
    with _populations(sizes, server_url) as (populations, (sandbox, pairs)):
        settings.WALLET_KEKS = f"1:{_kek()}"
        for population in populations:
            _use(population)
            seeded = seed(pairs[population.size], count=population.size, data=True)
            figures = seeded.as_dict()
            figures["us_per_citizen"] = round(seeded.seconds * 1e6 / population.size, 1)
            figures["load_average_after"] = _load_average()
            result["seed"][str(population.size)] = figures
            _sign_in_aino(population, sandbox)

        small, large = populations[0], populations[-1]
        load_before = _load_average()
        me = compare("me", _me_request(large), _me_request(small), rounds=rounds, calls=calls)
        result["me"] = {
            "citizens_small": small.size,
            "citizens_large": large.size,
            "ms_per_request_small": round(1000 / me.baseline_per_second, 3),
            "ms_per_request_large": round(1000 / me.subject_per_second, 3),
            "ratio_large_to_small": round(me.baseline_per_second / me.subject_per_second, 3),
            "rounds": rounds,
            "calls_per_round": calls,
            "load_average": [load_before, _load_average()],
        }

        # Each round rotates every population to a new KEK, in alternating order; a
        # population's figures are the median round's (the machine is shared and noisy).
        rounds_of: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
        for number in range(rotation_rounds):
            order = populations if number % 2 == 0 else populations[::-1]
            for population in order:
                _use(population)
                rotation = rotate_on_postgres(version=number + 2)
                rotation["load_average_after"] = _load_average()
                rounds_of[population.size].append(rotation)
        for size, rotations in rounds_of.items():
            median = sorted(rotations, key=lambda r: r["per_citizen_ms"])[len(rotations) // 2]
            result["rotation"][str(size)] = {
                **median,
                "rounds": len(rotations),
                "per_citizen_ms_each_round": [r["per_citizen_ms"] for r in rotations],
            }
        _use(small)
    per_citizen = [result["rotation"][str(size)]["per_citizen_ms"] for size in sizes]
    result["rotation_largest_to_smallest"] = round(per_citizen[-1] / per_citizen[0], 3)
    result["rotation_worst_ratio_peer_to_wallet"] = min(
        result["rotation"][str(size)]["ratio_peer_to_wallet"] for size in sizes
    )
    return result
