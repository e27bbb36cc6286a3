from __future__ import annotations

from typing import Any

from wallet.graphql.permissions import citizen_required, principal_of
from wallet.graphql.types import MeRoot
from wallet.selectors import citizen_wallet


@citizen_required
def resolve_me(root: Any, info: Any) -> MeRoot:
    principal = principal_of(info)
    assert principal is not None
    return MeRoot(wallet=citizen_wallet(citizen=principal.citizen), principal=principal)
