from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.idp.services import clients_seed, demo_users_seed
from sandbox.youth.services import youth_demo_cards_seed, youth_extra_members_seed


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
    help = "Create or update the demo users, the OIDC clients and the upstream demo records."

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
            "--youth-extra",
            type=int,
            default=0,
            help="Also make this many generated youth members (replaces earlier ones).",
        )
        parser.add_argument(
            "--youth-seed", type=int, default=1, help="Random seed of the generated members."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # settings reads var/dev.env into os.environ before this runs.
        wallet_secret = _required_env("WALLET_OIDC_CLIENT_SECRET")
        connector_secret = _required_env("WALLET_CONNECTOR_CLIENT_SECRET")
        if options["youth_extra"] < 0:
            raise CommandError("--youth-extra must be zero or more")

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
        youth_demo_cards_seed()
        youth_extra_members_seed(count=options["youth_extra"], seed=options["youth_seed"])
        self.stdout.write(self.style.SUCCESS("Sandbox seeded."))
