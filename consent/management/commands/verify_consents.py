from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.services import consent_histories_verify
from wallet.management.commands._citizen import citizen_from_options


class Command(BaseCommand):
    help = (
        "Walk every consent's status chain (or one citizen's consents) and report the first "
        "broken link of each: a missing, altered or reordered status record, or a consent with "
        "no status record at all (reads treat it as not given)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--citizen", metavar="SUB", help="only this citizen (their `sub`)")
        parser.add_argument(
            "--issuer", default=None, help="the sub's issuer (default: OIDC_ISSUER)"
        )

    def handle(self, *args: object, **options: object) -> None:
        citizen_ids = [citizen_from_options(options).pk] if options.get("citizen") else None
        broken = 0
        for link in consent_histories_verify(citizen_ids=citizen_ids):
            broken += 1
            self.stderr.write(f"broken link: {link}")
        if broken:
            raise CommandError(f"{broken} consent history chain(s) broken")
        self.stdout.write(self.style.SUCCESS("Every consent's history is intact."))
