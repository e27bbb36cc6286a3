from collections.abc import Iterable
from typing import Any

from wallet.access_log import access_log_verify
from wallet.management.commands._verify import ChainVerifyCommand


class Command(ChainVerifyCommand):
    help = (
        "Walk every citizen's access-log chain (or one citizen's) and report the first broken "
        "link of each: a missing, altered or reordered entry, or a head that does not match."
    )
    chains = "access-log chain(s)"
    intact = "Every access-log chain is intact."

    def broken_links(self, citizen_ids: list[Any] | None) -> Iterable[object]:
        return access_log_verify(citizen_ids=citizen_ids)
