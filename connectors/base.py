"""What every connector provides, and the registry the sync engine reads."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import httpx
from django.db.models import QuerySet

from wallet.catalogue import Labels, RecordKind
from wallet.models import Citizen
from wallet.services import UpstreamRecord


@dataclass(frozen=True)
class SourceInfo:
    """Why the city holds this data, shown to the citizen next to it."""

    controller: str
    lawful_basis: str
    purpose: str
    retention: str


@dataclass
class CitizenFetch:
    """What one citizen's fetch brought: good records, plus the kinds it saw completely (records of
    those kinds missing from `records` have ended upstream) and the records it had to skip."""

    records: list[UpstreamRecord] = field(default_factory=list)
    complete_kinds: set[str] = field(default_factory=set)
    rejected: list[str] = field(default_factory=list)  # safe reasons, never the values


class InvalidRecord(ValueError):
    """An upstream record that does not match the contract; the message names the field only."""


class Connector(ABC):
    source: str
    kinds: tuple[RecordKind, ...]
    info: SourceInfo
    labels: Labels

    @abstractmethod
    def fetch_citizen(self, *, citizen: Citizen, client: httpx.Client) -> CitizenFetch:
        """Everything the upstream holds about one citizen."""

    def eligible_citizens(self) -> QuerySet[Citizen]:
        """Whom a sweep covers: citizens with a wallet (never strangers from upstream)."""
        return Citizen.objects.filter(is_active=True)

    def changed_citizens(self, *, since: datetime, client: httpx.Client) -> set[UUID] | None:
        """Citizens whose upstream data changed since `since`, for an incremental sweep; None
        when the upstream cannot tell (the sweep then covers everyone)."""
        return None


_CONNECTORS: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    _CONNECTORS[connector.source] = connector
    return connector


def connectors() -> list[Connector]:
    return list(_CONNECTORS.values())


def connector_for(source: str) -> Connector:
    return _CONNECTORS[source]
