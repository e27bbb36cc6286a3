import json
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandParser

from wallet.management.commands._citizen import add_citizen_arguments, citizen_from_options
from wallet.services import citizen_erase


class Command(BaseCommand):
    help = "Erase everything the wallet holds about one citizen: the data key first, then the rows."

    def add_arguments(self, parser: CommandParser) -> None:
        add_citizen_arguments(parser)

    def handle(self, *args: object, **options: object) -> None:
        result = citizen_erase(citizen=citizen_from_options(options))
        self.stdout.write(json.dumps(asdict(result)))
