"""What every connector provides, and the registry of the connectors the settings enable."""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import httpx
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from connectors import conf
from connectors.transport import GraphQLErrorConvention, GraphQLTransport
from wallet import catalogue
from wallet.auth.principal import Principal
from wallet.catalogue import Labels, RecordKind
from wallet.hooks import HomeSection
from wallet.models import Citizen
from wallet.selectors import CitizenWallet
from wallet.services import UpstreamRecord
from wallet.vault import Vault

PERIOD = "{period}"


@dataclass(frozen=True)
class SourceInfo:
    """Why the city holds this data, shown to the citizen next to it (in their language), and in
    the record of processing (/processing/).

    Retention is data and words that cannot disagree: `retention_after_end` is how long the
    wallet keeps a record after it ended upstream (the purge deletes it then;
    connectors.services.records_retention_purge), and `retention` says it for people with a
    `{period}` in each language, filled from the days in force (a deployment may set others:
    the source's `RETENTION_DAYS` setting). Never a number in words.
    """

    controller: Labels
    lawful_basis: Labels
    purpose: Labels
    retention: Labels  # "{period} after ...", in each language
    retention_after_end: timedelta
    system: Labels  # the upstream system the data comes from, named for people

    def __post_init__(self) -> None:
        for language in ("fi", "sv", "en"):
            if getattr(self.retention, language).count(PERIOD) != 1:
                raise ValueError(f"retention.{language} must say {PERIOD} once")
        whole_days = not (self.retention_after_end.seconds or self.retention_after_end.microseconds)
        if self.retention_after_end < timedelta(days=1) or not whole_days:
            raise ValueError("retention_after_end must be a whole number of days, at least one")


def retention_period(days: int) -> Labels:
    """`days` as people say it: whole years (of 365 days) as years, anything else in days."""
    if days % 365 == 0:
        years = days // 365
        return Labels(
            f"{years} vuosi" if years == 1 else f"{years} vuotta",
            f"{years} år",
            f"{years} year" if years == 1 else f"{years} years",
        )
    return Labels(
        f"{days} päivä" if days == 1 else f"{days} päivää",
        f"{days} dag" if days == 1 else f"{days} dagar",
        f"{days} day" if days == 1 else f"{days} days",
    )


def retention_text(info: SourceInfo, days: int) -> Labels:
    """The source's retention in words, its {period} being `days`."""
    period = retention_period(days)
    return Labels(
        info.retention.fi.replace(PERIOD, period.fi),
        info.retention.sv.replace(PERIOD, period.sv),
        info.retention.en.replace(PERIOD, period.en),
    )


@dataclass(frozen=True)
class CitizenLink:
    """Whether the citizen linked an account of theirs to a source that needs one (the library
    card), as their data export gives it: `account_id` is the id the source knows them by."""

    linked: bool
    linked_at: datetime | None = None
    account_id: str | None = None


@dataclass
class CitizenFetch:
    """What one citizen's fetch brought: good records, plus the kinds it saw completely (records of
    those kinds missing from `records` have ended upstream) and the records it had to skip."""

    records: list[UpstreamRecord] = field(default_factory=list)
    complete_kinds: set[str] = field(default_factory=set)
    rejected: list[str] = field(default_factory=list)  # safe reasons, never the values


class InvalidRecord(ValueError):
    """An upstream record that does not match the contract; the message names the field only."""


class SweepMode(StrEnum):
    """The sweeps a connector supports, as it declares them (never inferred from its methods)."""

    FULL = "full"  # every eligible citizen
    INCREMENTAL = "incremental"  # only citizens the upstream says changed (changed_citizens)


@dataclass(frozen=True)
class MeField:
    """A field the connector adds to the citizen's `Me`: the records of one of its kinds, as a
    GraphQL type generated from the field catalogue (connectors.graphql.types)."""

    name: str  # snake_case, as on `Me` (or, for a child, on its parent's type)
    kind: RecordKind
    type_name: str  # the generated GraphQL type's name
    many: bool = True  # every record (a list), or the first one (null without one)
    # Fields for records of the same citizen and source nested under this type (an account's
    # loans): the same single load of the wallet, never another query.
    children: tuple[MeField, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class ConfigDefaults:
    """A connector's endpoint and credentials before an admin's settings (connectors.config)."""

    base_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)


class Connector(ABC):
    """One upstream system. A connector package declares it in its `CONNECTOR` (connectors.conf)
    and the source is enabled by one entry in `settings.CONNECTORS`; everything else about the
    source is declared here: its kinds (registered in the field catalogue), its `Me` fields, the
    sweeps it supports, its endpoint and credentials and how its upstream's errors map to typed
    errors (GraphQLConnector.errors, or its own client)."""

    source: str
    kinds: tuple[RecordKind, ...]
    info: SourceInfo
    labels: Labels
    me_fields: tuple[MeField, ...] = ()
    sweep_modes: frozenset[SweepMode] = frozenset({SweepMode.FULL})
    # What the wallet keeps for this source besides its records (the library's card link), for
    # the record of processing.
    other_data: tuple[Labels, ...] = ()

    @property
    def settings(self) -> dict[str, Any]:
        """Its own settings: its entry in `settings.CONNECTORS` over its declared defaults."""
        return conf.resolved(self.source, django_settings.CONNECTORS)

    @property
    def retention_after_end(self) -> timedelta:
        """How long a record is kept after it ended upstream: the deployment's `RETENTION_DAYS`
        for this source, else the source's own."""
        days = self.settings[conf.RETENTION_DAYS]
        return self.info.retention_after_end if days is None else timedelta(days=days)

    @property
    def retention_text(self) -> Labels:
        """The retention in force, in words (always the same days as `retention_after_end`)."""
        return retention_text(self.info, self.retention_after_end.days)

    @property
    def supports_incremental(self) -> bool:
        return SweepMode.INCREMENTAL in self.sweep_modes

    def config_defaults(self) -> ConfigDefaults:
        """Endpoint and credentials before an admin's: its BASE_URL, and by default the
        connectors' client at the city's provider."""
        return ConfigDefaults(
            base_url=self.settings["BASE_URL"],
            token_url=django_settings.CONNECTOR_TOKEN_ENDPOINT,
            client_id=django_settings.CONNECTOR_CLIENT_ID,
            client_secret=django_settings.CONNECTOR_CLIENT_SECRET,
        )

    def token_url_for(self, *, base_url: str, default: str) -> str:
        """The token URL when an admin set none: by default the environment's (`default`); a
        connector whose token endpoint lives under its API says so here."""
        return default

    def home_section(self, principal: Principal, wallet: CitizenWallet) -> HomeSection | None:
        """Its part of the citizen's front page, if it has one (registered through wallet.hooks
        when the app loads)."""
        return None

    @abstractmethod
    def fetch_citizen(self, *, citizen: Citizen, client: httpx.Client) -> CitizenFetch:
        """Everything the upstream holds about one citizen. In a sweep it runs on one of the
        pool's threads (fetch_citizens): it may read the database, never write it."""

    def fetch_citizens(
        self, *, citizens: Sequence[Citizen], client: httpx.Client, pool: Executor
    ) -> Iterator[tuple[Citizen, Future[CitizenFetch]]]:
        """A sweep's fetches of many citizens, as they complete: each citizen once, with the
        future of its fetch (which raises what the fetch raised). The work runs on `pool`,
        whose threads are as many as the source may have calls in flight (connectors.throttle
        keeps each call within the budget). By default one fetch_citizen per citizen; a
        connector whose upstream answers for many records in one call overrides this."""
        futures = {
            pool.submit(self.fetch_citizen, citizen=citizen, client=client): citizen
            for citizen in citizens
        }
        for future in as_completed(futures):
            yield futures[future], future

    def needs_citizen_link(self, citizen: Citizen) -> bool:
        """Whether the citizen must first link an account of theirs to this source (the
        library's card), as the front page says; by default the source knows them by `sub`."""
        return False

    def citizen_link(self, *, citizen: Citizen, vault: Vault | None) -> CitizenLink | None:
        """The citizen's link to this source, for their data export (`vault`: their key for
        reads); None for a source that needs no link (it knows them by `sub`)."""
        return None

    def eligible_citizens(self) -> QuerySet[Citizen]:
        """Whom a sweep covers: citizens with a wallet (never strangers from upstream)."""
        return Citizen.objects.filter(is_active=True)

    def changed_citizens(self, *, since: datetime, client: httpx.Client) -> set[UUID] | None:
        """Citizens whose upstream data changed since `since`, for an incremental sweep; called
        only when the connector declares SweepMode.INCREMENTAL (without it, an incremental sweep
        covers everyone)."""
        return None


class GraphQLConnector(Connector):
    """A GraphQL service behind the connectors' client-credentials tokens (youth, berths): it
    declares how its service types errors, and its `SCOPE` setting names its tokens' scope."""

    errors: GraphQLErrorConvention

    def transport(self) -> GraphQLTransport:
        from connectors.config import effective_config

        return GraphQLTransport(
            config=effective_config(self.source), scope=self.settings["SCOPE"], errors=self.errors
        )


# --- The registry: the connectors `settings.CONNECTORS` names ----------------------------------

_registry: dict[str, Connector] | None = None
_registry_lock = threading.Lock()
_registered_kinds: set[str] = set()


def _connector_of(source: str, entry: dict[str, Any]) -> Connector:
    declaration = conf.package_declaration(entry[conf.PACKAGE])
    connector_class = import_string(declaration.connector)
    if not (isinstance(connector_class, type) and issubclass(connector_class, Connector)):
        raise ImproperlyConfigured(f"{declaration.connector} is not a Connector")
    connector = connector_class()
    if connector.source != source:
        raise ImproperlyConfigured(f"{declaration.connector} is the {connector.source!r} source")
    if any(kind.source != source for kind in connector.kinds):
        raise ImproperlyConfigured(f"{declaration.connector} declares another source's kind")
    incremental = type(connector).changed_citizens is not Connector.changed_citizens
    if connector.supports_incremental and not incremental:
        raise ImproperlyConfigured(
            f"{declaration.connector} declares incremental sweeps but no changed_citizens"
        )
    return connector


def _registry_build() -> dict[str, Connector]:
    global _registry
    with _registry_lock:
        if _registry is not None:
            return _registry
        found = [
            p.message for p in conf.problems(django_settings.CONNECTORS) if not p.missing_secret
        ]
        if found:
            raise ImproperlyConfigured("; ".join(found))
        built = {
            source: _connector_of(source, entry)
            for source, entry in django_settings.CONNECTORS.items()
        }
        kinds = [kind for connector in built.values() for kind in connector.kinds]
        for kind_id in _registered_kinds - {kind.id for kind in kinds}:
            catalogue.unregister(kind_id)  # a source taken out of the settings (tests do)
        for kind in kinds:
            catalogue.register(kind)
        _registered_kinds.clear()
        _registered_kinds.update(kind.id for kind in kinds)
        _registry = built
        return built


def registry_reset(**kwargs: Any) -> None:
    """Forget the registry when `CONNECTORS` changes (a `setting_changed` receiver), and build
    it again at once so the field catalogue follows."""
    global _registry
    if kwargs.get("setting", "CONNECTORS") != "CONNECTORS":
        return
    with _registry_lock:
        _registry = None
    with contextlib.suppress(ImproperlyConfigured):  # raised again when the registry is used
        _registry_build()


def connectors() -> list[Connector]:
    """The enabled sources' connectors, in the order of `settings.CONNECTORS`."""
    return list(_registry_build().values())


def connector_for(source: str) -> Connector:
    """The connector of `source`; KeyError for a source that is not in the settings."""
    return _registry_build()[source]
