"""What the connectors plug into the core's extension points (wallet.hooks), registered in
`ConnectorsConfig.ready()`: a sync of the citizen's sources at login, and the latest syncs on the
front page."""

from __future__ import annotations

from connectors.selectors import citizen_latest_runs
from connectors.tasks import citizen_sync_enqueue
from wallet.auth.principal import Principal
from wallet.hooks import HomeSection
from wallet.models import Citizen
from wallet.selectors import CitizenWallet

LATEST_SYNCS_SHOWN = 3


def sync_on_sign_in(citizen: Citizen) -> None:
    """Fresh data after each login: a sync of every source, enqueued after the commit."""
    citizen_sync_enqueue(citizen_id=citizen.pk, reason="login")


def latest_syncs_home_section(principal: Principal, wallet: CitizenWallet) -> HomeSection:
    runs = citizen_latest_runs(citizen=principal.citizen, limit=LATEST_SYNCS_SHOWN)
    return HomeSection("connectors/latest_syncs_section.html", {"last_runs": runs})
