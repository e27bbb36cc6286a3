from collections.abc import Iterable
from typing import Any

from django.core.management.base import CommandError

from wallet.access_log import access_log_erased, access_log_verify
from wallet.management.commands._citizen import erasure_from_options
from wallet.management.commands._verify import ChainVerifyCommand


class Command(ChainVerifyCommand):
    help = (
        "Walk every citizen's access-log chain (or one citizen's) and report the first broken "
        "link of each: a missing, altered or reordered entry, or a head that does not match. "
        "An erased citizen's chain is reported as erased (it ends in a tombstone), not broken."
    )
    chains = "access-log chain(s)"
    intact = "Every access-log chain is intact."

    def citizen_ids(self, options: dict[str, Any]) -> list[Any] | None:
        try:
            return super().citizen_ids(options)
        except CommandError:
            erasure = erasure_from_options(options)
            if erasure is None:
                raise
            return [erasure.citizen_id]  # erased: its tombstone answers

    def broken_links(self, citizen_ids: list[Any] | None) -> Iterable[object]:
        return access_log_verify(citizen_ids=citizen_ids)

    def report_more(self, citizen_ids: list[Any] | None) -> None:
        if citizen_ids is None:
            erased = sum(1 for _ in access_log_erased())
            if erased:
                self.stdout.write(f"{erased} erased citizen(s): their chains end in tombstones.")
            return
        for chain in access_log_erased(citizen_ids=citizen_ids):
            self.stdout.write(f"erased: {chain}")
