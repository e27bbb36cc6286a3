from __future__ import annotations

import argparse
import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.berths.services import berths_bench_seed, berths_demo_seed
from sandbox.demo import BENCH_MAX_CITIZENS
from sandbox.idp.services import clients_seed, demo_users_seed
from sandbox.library.services import api_client_seed, library_bench_seed, library_demo_seed
from sandbox.youth.services import youth_bench_members_seed, youth_demo_cards_seed


def _required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise CommandError(
            f"{name} is not set. Put it in var/dev.env (or the environment): the sandbox "
            "registers that client secret, and the wallet uses the same value."
        )
    return value


def _env_list(name: str) -> list[str]:
    return os.environ.get(name, "").split()


class Command(BaseCommand):
    help = (
        "Create or update the demo users, the OIDC clients, the library's client key and the "
        "upstream demo records; with --citizens, also that many generated bench citizens."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            help="Extra redirect URI for oma-wallet-web (repeatable).",
        )
        parser.add_argument(
            "--post-logout-uri",
            action="append",
            default=[],
            help="Extra post-logout redirect URI for oma-wallet-web (repeatable).",
        )
        parser.add_argument(
            "--citizens",
            type=int,
            default=None,
            help="Generated bench citizens (youth members; every 2nd a berth customer, every "
            f"3rd a library patron; at most {BENCH_MAX_CITIZENS}). Replaces earlier ones.",
        )
        parser.add_argument(
            "--citizen-seed", type=int, default=None, help="Seed of the generated citizens."
        )
        # Earlier names of --citizens / --citizen-seed, kept for existing callers.
        parser.add_argument("--youth-extra", type=int, default=None, help=argparse.SUPPRESS)
        parser.add_argument("--youth-seed", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        # settings reads var/dev.env into os.environ before this runs.
        wallet_secret = _required_env("WALLET_OIDC_CLIENT_SECRET")
        connector_secret = _required_env("WALLET_CONNECTOR_CLIENT_SECRET")
        library_key = _required_env("LIBRARY_CLIENT_KEY")
        library_secret = _required_env("LIBRARY_CLIENT_SECRET")
        citizens = _first_given(options["citizens"], options["youth_extra"], default=0)
        seed = _first_given(options["citizen_seed"], options["youth_seed"], default=1)
        if not 0 <= citizens <= BENCH_MAX_CITIZENS:
            raise CommandError(f"--citizens must be between 0 and {BENCH_MAX_CITIZENS}")

        started = time.monotonic()
        demo_users_seed()
        clients_seed(
            wallet_client_secret=wallet_secret,
            connector_client_secret=connector_secret,
            extra_redirect_uris=[
                *options["redirect_uri"],
                *_env_list("SANDBOX_EXTRA_REDIRECT_URIS"),
            ],
            extra_post_logout_uris=[
                *options["post_logout_uri"],
                *_env_list("SANDBOX_EXTRA_POST_LOGOUT_URIS"),
            ],
        )
        api_client_seed(key=library_key, secret=library_secret)
        youth_demo_cards_seed()
        berths_demo_seed()
        library_demo_seed()
        youth_bench_members_seed(count=citizens, seed=seed)
        berths_bench_seed(count=citizens, seed=seed)
        library_bench_seed(count=citizens, seed=seed)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Sandbox seeded ({citizens} bench citizens, {elapsed:.1f} s).")
        )


def _first_given(*values: int | None, default: int) -> int:
    return next((value for value in values if value is not None), default)
