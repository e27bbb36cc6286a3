import json
from dataclasses import asdict

from django.core.management.base import BaseCommand

from wallet.erasure import erasures_complete


class Command(BaseCommand):
    help = (
        "Finish every erasure that stopped after its commit point (the data key, then the rows), "
        "and forget erasure markers older than WALLET_ERASURE_MARKER_DAYS. The periodic task "
        "wallet.erasures_complete runs the same."
    )

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(json.dumps(asdict(erasures_complete())))
