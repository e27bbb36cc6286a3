"""The sources in the record of processing (wallet.processing): one activity per enabled
source, from what its connector declares (SourceInfo, its kinds, its retention in force).
Registered in `ConnectorsConfig.ready()`; no query."""

from __future__ import annotations

from connectors import base
from wallet.processing import ActivityKind, Controller, ProcessingActivity, Purpose, Retention


def source_processing_activities() -> list[ProcessingActivity]:
    return [
        ProcessingActivity(
            kind=ActivityKind.SOURCE,
            key=connector.source,
            name=connector.labels,
            controller=Controller(name=connector.info.controller),
            purposes=(Purpose(connector.info.purpose),),
            lawful_basis=connector.info.lawful_basis,
            retention=Retention(
                text=connector.retention_text, days=connector.retention_after_end.days
            ),
            field_ids=tuple(kind.field_id(f.key) for kind in connector.kinds for f in kind.fields),
            other_data=connector.other_data,
            origin=connector.info.system,
        )
        for connector in base.connectors()
    ]
