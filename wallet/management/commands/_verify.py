"""Shared by the commands that walk hash chains (`verify_access_log`, `verify_consents`): every
chain or one citizen's, the first broken link of each on stderr, exit 1 when any is broken."""

from collections.abc import Iterable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wallet.management.commands._citizen import citizen_from_options


class ChainVerifyCommand(BaseCommand):
    chains = "chain(s)"  # what the failure message counts
    intact = "Every chain is intact."

    def broken_links(self, citizen_ids: list[Any] | None) -> Iterable[object]:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--citizen", metavar="SUB", help="only this citizen (their `sub`)")
        parser.add_argument(
            "--issuer", default=None, help="the sub's issuer (default: OIDC_ISSUER)"
        )

    def citizen_ids(self, options: dict[str, Any]) -> list[Any] | None:
        """The citizens `--citizen` names (None: every citizen)."""
        return [citizen_from_options(options).pk] if options.get("citizen") else None

    def report_more(self, citizen_ids: list[Any] | None) -> None:
        """What else to say after the broken links (nothing here)."""

    def handle(self, *args: object, **options: Any) -> None:
        citizen_ids = self.citizen_ids(options)
        broken = 0
        for link in self.broken_links(citizen_ids):
            broken += 1
            self.stderr.write(f"broken link: {link}")
        self.report_more(citizen_ids)
        if broken:
            raise CommandError(f"{broken} {self.chains} broken")
        self.stdout.write(self.style.SUCCESS(self.intact))
