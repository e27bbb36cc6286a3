"""The youth membership card's section of the citizen's front page (registered in
connectors.apps through wallet.hooks)."""

from __future__ import annotations

from connectors.youth.catalogue import MEMBERSHIP
from wallet.auth.principal import Principal
from wallet.hooks import HomeSection
from wallet.selectors import CitizenWallet
from wallet.views import record_rows


def youth_home_section(principal: Principal, wallet: CitizenWallet) -> HomeSection:
    """Every card the citizen has, sensitive fields held back below the assurance they need."""
    cards = [
        {
            "rows": record_rows(record=record, kind=MEMBERSHIP, loa=principal.loa),
            "fetched_at": record.fetched_at,
        }
        for record in wallet.records(source="youth", kind="membership")
    ]
    return HomeSection("connectors/youth/home_section.html", {"youth_cards": cards})
