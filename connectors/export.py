"""The connectors' members of the citizen's data export (wallet.export): `sources` (each enabled
source, its link and freshness, and why the city holds its data) and `records` (every record the
wallet holds, ended ones too, with every catalogue field of its kind). Registered from
ConnectorsConfig.ready() through wallet.hooks."""

from __future__ import annotations

from typing import Any

from connectors import base
from connectors.selectors import citizen_sources
from wallet import catalogue
from wallet.export import iso, labels_json, record_fields, uncatalogued_values
from wallet.models import Citizen
from wallet.selectors import citizen_records_all
from wallet.vault import Vault


def processing_json(connector: base.Connector) -> dict[str, dict[str, str]]:
    """Why the city holds the source's data: controller, lawful basis, purpose, retention (the
    one in force, its days in the words)."""
    info = connector.info
    return {
        "controller": labels_json(info.controller),
        "lawfulBasis": labels_json(info.lawful_basis),
        "purpose": labels_json(info.purpose),
        "retention": labels_json(connector.retention_text),
    }


def _link_json(connector: base.Connector, citizen: Citizen, vault: Vault | None) -> Any:
    link = connector.citizen_link(citizen=citizen, vault=vault)
    if link is None:
        return None
    return {"linked": link.linked, "linkedAt": iso(link.linked_at), "accountId": link.account_id}


def sources_export(citizen: Citizen, vault: Vault | None) -> list[dict[str, Any]]:
    """Each enabled source. Queries: 1 for the syncs, plus each source's link (the library's: 1)."""
    connectors = base.connectors()
    freshness = {s.name: s for s in citizen_sources(citizen=citizen, connectors=connectors)}
    return [
        {
            "source": connector.source,
            "label": labels_json(connector.labels),
            "processing": processing_json(connector),
            "link": _link_json(connector, citizen, vault),
            "lastSyncedAt": iso(freshness[connector.source].last_synced_at),
            "lastSyncStatus": freshness[connector.source].status,
            "lastSyncErrorCode": freshness[connector.source].error_code,
        }
        for connector in connectors
    ]


def records_export(citizen: Citizen, vault: Vault | None) -> list[dict[str, Any]]:
    """Every record the wallet holds for the citizen, oldest first. A record of a source no
    longer enabled is still theirs: it comes without labels and `processing`, its values in
    `otherValues`. 1 query, whatever the number of records."""
    processing = {c.source: processing_json(c) for c in base.connectors()}
    kinds = {kind.id: kind for kind in catalogue.kinds()}
    exported = []
    for record in citizen_records_all(citizen=citizen, vault=vault):
        kind_id = f"{record.source}.{record.kind}"
        kind = kinds.get(kind_id)
        exported.append(
            {
                "id": str(record.id),
                "source": record.source,
                "kind": kind_id,
                "label": labels_json(kind.labels) if kind else None,
                "state": record.state,
                "fetchedAt": iso(record.fetched_at),
                "upstreamModifiedAt": iso(record.upstream_modified_at),
                "endedAt": iso(record.ended_at),
                "processing": processing.get(record.source),
                "fields": record_fields(kind, record.payload) if kind else {},
                "otherValues": uncatalogued_values(kind, record.payload),
            }
        )
    return exported
