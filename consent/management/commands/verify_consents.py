from collections.abc import Iterable
from typing import Any

from consent.services import consent_histories_verify
from wallet.management.commands._verify import ChainVerifyCommand


class Command(ChainVerifyCommand):
    help = (
        "Walk every consent's status chain (or one citizen's consents) and report the first "
        "broken link of each: a missing, altered or reordered status record, or a consent with "
        "no status record at all (reads treat it as not given)."
    )
    chains = "consent history chain(s)"
    intact = "Every consent's history is intact."

    def broken_links(self, citizen_ids: list[Any] | None) -> Iterable[object]:
        return consent_histories_verify(citizen_ids=citizen_ids)
