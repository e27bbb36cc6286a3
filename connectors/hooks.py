"""What the connectors plug into the core's extension points (wallet.hooks), registered in
`ConnectorsConfig.ready()`: a sync of the citizen's sources at login. (Their front-page section
is connectors.pages.sources_home_section.)"""

from __future__ import annotations

from connectors.tasks import citizen_sync_enqueue
from wallet.models import Citizen


def sync_on_sign_in(citizen: Citizen) -> None:
    """Fresh data after each login: a sync of every source, enqueued after the commit."""
    citizen_sync_enqueue(citizen_id=citizen.pk, reason="login")
