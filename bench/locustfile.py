"""The load of `make load` (bench/load.py runs it with locust, headless): citizens reading `me`,
a few citizens syncing their sources, services reading consented data. Every request is a
GraphQL POST with a bearer token; a request fails on a non-2xx answer, on GraphQL `errors`,
or on an answer without the data asked for.

- `CitizenReading`: `me` (profile, youth card, berth leases, boats, sources), each time as the
  next citizen of the pool, with a token the sandbox's provider signed for that citizen.
- `CitizenSyncing`: `syncMyData`, the same way. Bounded: a fixed number of these users
  (`sync_users`), each starting a sync at most once every `sync_pacing_seconds`, so the
  upstream simulators (one process, on the same cores) are not what is measured.
- `ServiceReading`: `citizenData` of the next consented citizen with the demo service's
  client-credentials token.

Everything comes from the JSON file named by `LOAD_FIXTURES` (bench/load.py writes it; tokens,
so it lives in a private temporary directory): `citizen_tokens`, `service_token`,
`service_citizen_ids`, `granted_fields` and `settings` (`phases`: each phase's pause of the
reading clients between requests, [min, max] seconds; `sync_users`, `sync_pacing_seconds`).
`LOAD_PHASE` names the phase (default: the first).

When locust quits, the final figures (locust's own: counts, requests per second, p50 / p95 /
p99, failures) go to the JSON file named by `LOAD_STATS`. Its `--csv` files are written by a
periodic writer that can miss the last second's requests.

The host must be an http URL on loopback (127.0.0.0/8, ::1, localhost): anything else is
refused before a request is made.

`python -m bench.locustfile --once --host URL` runs every task of every user once instead, and
exits non-zero if any request failed (tests/test_bench_load.py keeps this file from rotting).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, constant_pacing, events, task

from bench.load import CITIZEN_DATA_QUERY, ME_QUERY, SYNC_MUTATION, loopback_only


def _fixtures() -> dict[str, Any]:
    path = os.environ.get("LOAD_FIXTURES")
    if not path:
        raise SystemExit("LOAD_FIXTURES names no file: run the load with `make load`")
    return dict(json.loads(Path(path).read_text()))


FIXTURES = _fixtures()
SETTINGS: dict[str, Any] = FIXTURES["settings"]
GRANTED_FIELDS: list[str] = FIXTURES["granted_fields"]


def _turns(items: list[str]) -> Callable[[], str]:
    """The next item each call, round the list: users of one kind share it, so each request is
    made as the next citizen and no two users act for the same one while the list is longer
    than the users."""
    counter: Iterator[int] = itertools.count()
    return lambda: items[next(counter) % len(items)]


_next_citizen_token = _turns(FIXTURES["citizen_tokens"])
_next_service_citizen = _turns(FIXTURES["service_citizen_ids"])


class _GraphQLUser(FastHttpUser):
    abstract = True

    def graphql(
        self,
        name: str,
        token: str,
        query: str,
        check: Callable[[dict[str, Any]], str | None],
        variables: dict[str, Any] | None = None,
    ) -> None:
        """POST the operation; `check(data)` returns why the answer is wrong, or None."""
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        with self.client.post(
            "/graphql/",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            name=name,
            catch_response=True,
        ) as response:
            if not 200 <= response.status_code < 300:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return
            try:
                answer = response.json()
            except ValueError:
                response.failure("the answer is not JSON")
                return
            if answer.get("errors"):
                codes = sorted(
                    {str((e.get("extensions") or {}).get("code")) for e in answer["errors"]}
                )
                response.failure(f"GraphQL errors: {', '.join(codes)}")
                return
            problem = check(answer.get("data") or {})
            if problem:
                response.failure(problem)
            else:
                response.success()


def _me_problem(data: dict[str, Any]) -> str | None:
    me = data.get("me")
    if not me or me.get("profile") is None:
        return "no profile in `me`"
    return None


def _sync_problem(data: dict[str, Any]) -> str | None:
    sync = data.get("syncMyData") or {}
    if sync.get("errors"):
        return f"syncMyData errors: {sorted(e.get('code') for e in sync['errors'])}"
    sources = sync.get("sources") or []
    if not sources:
        return "syncMyData synced no source"
    failed = sorted(
        f"{s.get('source')}: {s.get('status')} {s.get('errorCode') or ''}".strip()
        for s in sources
        if s.get("status") != "SUCCEEDED"
    )
    return f"sources not synced: {'; '.join(failed)}" if failed else None


def _citizen_data_problem(data: dict[str, Any]) -> str | None:
    read = data.get("citizenData")
    if not read:
        return "no citizenData"
    if read.get("grantedFields") != GRANTED_FIELDS:
        return f"granted fields {read.get('grantedFields')} != {GRANTED_FIELDS}"
    return None


PHASE = os.environ.get("LOAD_PHASE") or next(iter(SETTINGS["phases"]))
_THINK = between(*SETTINGS["phases"][PHASE])


class CitizenReading(_GraphQLUser):
    weight = 7
    wait_time = _THINK

    @task
    def me(self) -> None:
        self.graphql("me", _next_citizen_token(), ME_QUERY, _me_problem)


class CitizenSyncing(_GraphQLUser):
    fixed_count = int(SETTINGS["sync_users"])
    wait_time = constant_pacing(float(SETTINGS["sync_pacing_seconds"]))

    @task
    def sync_my_data(self) -> None:
        self.graphql("syncMyData", _next_citizen_token(), SYNC_MUTATION, _sync_problem)


class ServiceReading(_GraphQLUser):
    weight = 3
    wait_time = _THINK

    @task
    def citizen_data(self) -> None:
        self.graphql(
            "citizenData",
            FIXTURES["service_token"],
            CITIZEN_DATA_QUERY,
            _citizen_data_problem,
            variables={"id": _next_service_citizen()},
        )


USERS: tuple[type[_GraphQLUser], ...] = (CitizenReading, CitizenSyncing, ServiceReading)


def final_stats(stats: Any) -> dict[str, Any]:
    """Per operation (and "all"), from locust's statistics after the run; times in ms."""

    def figures(entry: Any) -> dict[str, Any]:
        return {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "requests_per_second": round(entry.total_rps, 2),
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "mean_ms": round(entry.avg_response_time, 1),
            "max_ms": round(entry.max_response_time, 1),
        }

    operations = {entry.name: figures(entry) for entry in stats.entries.values()}
    operations["all"] = figures(stats.total)
    failures = [
        {"operation": e.name, "error": e.parse_error(e.error), "count": e.occurrences}
        for e in stats.errors.values()
    ]
    return {"operations": operations, "failures": failures}


_environments: list[Any] = []


@events.init.add_listener
def _remember_environment(environment: Any, **_: Any) -> None:
    loopback_only(environment.host)
    _environments.append(environment)


@events.quit.add_listener
def _write_final_stats(**_: Any) -> None:
    path = os.environ.get("LOAD_STATS")
    if path and _environments:
        Path(path).write_text(json.dumps(final_stats(_environments[-1].stats)))


def run_every_task_once(host: str) -> dict[str, dict[str, Any]]:
    """Each task of each user once, with locust's own client and checks: per request name,
    how many succeeded and why any failed."""
    from locust.env import Environment

    environment = Environment(user_classes=list(USERS), host=loopback_only(host))
    outcomes: dict[str, dict[str, Any]] = {}

    def record(name: str, exception: BaseException | None = None, **_: Any) -> None:
        outcome = outcomes.setdefault(name, {"succeeded": 0, "failed": []})
        if exception is None:
            outcome["succeeded"] += 1
        else:
            outcome["failed"].append(str(exception))

    environment.events.request.add_listener(record)
    for user_class in USERS:
        user_class.host = host  # what locust's command line does with --host
        user = user_class(environment)
        for each_task in dict.fromkeys(user.tasks):  # weights repeat a task; once each
            each_task(user)
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.locustfile")
    parser.add_argument("--once", action="store_true", required=True)
    parser.add_argument("--host", required=True)
    args = parser.parse_args()
    outcomes = run_every_task_once(args.host)
    print(json.dumps(outcomes, indent=2))
    return 1 if any(o["failed"] for o in outcomes.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
