"""Extension points of the core: the apps plug in here, from their `AppConfig.ready()`.

The core (everything in `wallet/` but the composition root) imports neither `connectors` nor
`consent`. Where it needs something from them, it offers a hook and they register:

- `on_citizen_signed_in(callback)`: called after every browser login, with the citizen
  (the connectors start a sync of the citizen's sources);
- `home_section_register(section)`: a part of the citizen's front page after the profile, in
  registration order (the youth membership card, the latest syncs);
- `nav_item_register(item)`: a link in every page's navigation (consents, the library card,
  the admin's sync dashboard), ordered by `order`;
- `before_erasure(callback)`: called when a citizen is erased, inside the erasure's transaction
  (the consent app withdraws the citizen's consents and leaves the services a residue);
- `export_section_register(key, builder)`: a top-level member of the citizen's data export
  (wallet.export) that an app owns (the linked sources and records, the consents and requests);
- `processing_activities_register(provider)`: activities for the record of processing
  (/processing/, wallet.processing): the connectors' sources, the consent app's services.

Registration is idempotent (registering the same callable twice keeps one), so a `ready()` that
runs again in a test changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from wallet.auth.principal import Principal
    from wallet.models import Citizen
    from wallet.processing import ProcessingActivity
    from wallet.selectors import CitizenWallet
    from wallet.vault import Vault


SignedInCallback = Callable[["Citizen"], None]

_signed_in: list[SignedInCallback] = []


def on_citizen_signed_in(callback: SignedInCallback) -> SignedInCallback:
    """Run `callback(citizen)` after each browser login (usable as a decorator)."""
    if callback not in _signed_in:
        _signed_in.append(callback)
    return callback


def citizen_signed_in(*, citizen: Citizen) -> None:
    """The login is done: run the registered callbacks, in registration order. A failing
    callback fails the login, as a failing sync enqueue did when it was called here directly."""
    for callback in list(_signed_in):
        callback(citizen)


@dataclass(frozen=True)
class HomeSection:
    """A rendered part of the front page: a template and its context."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    scripts: tuple[str, ...] = ()  # static paths of progressive scripts the section uses


HomeSectionBuilder = Callable[["Principal", "CitizenWallet"], "HomeSection | None"]

_home_sections: list[HomeSectionBuilder] = []


def home_section_register(builder: HomeSectionBuilder) -> HomeSectionBuilder:
    """Add `builder(principal, wallet)` to the front page; it returns None to show nothing."""
    if builder not in _home_sections:
        _home_sections.append(builder)
    return builder


def home_sections(*, principal: Principal, wallet: CitizenWallet) -> list[HomeSection]:
    sections = (builder(principal, wallet) for builder in _home_sections)
    return [section for section in sections if section is not None]


@dataclass(frozen=True)
class NavItem:
    """A link in the pages' navigation. `label` is translatable text (gettext_lazy)."""

    url_name: str
    label: Any
    order: int = 50
    staff_only: bool = False


_nav_items: list[NavItem] = []


def nav_item_register(item: NavItem) -> NavItem:
    if item not in _nav_items:
        _nav_items.append(item)
    return item


def nav_items(*, is_staff: bool) -> list[NavItem]:
    shown = [item for item in _nav_items if is_staff or not item.staff_only]
    return sorted(shown, key=lambda item: item.order)


# --- The citizen's data export (wallet.export) ---------------------------------------------------

ExportSectionBuilder = Callable[["Citizen", "Vault | None"], Any]


@dataclass(frozen=True)
class ExportSection:
    """A top-level member of the export: `builder(citizen, vault)` returns its JSON-able value
    (`vault` is the citizen's key for reads, None when they have none). Members come in `order`."""

    key: str
    builder: ExportSectionBuilder
    order: int = 50


_export_sections: dict[str, ExportSection] = {}


def export_section_register(
    key: str, builder: ExportSectionBuilder, *, order: int = 50
) -> ExportSection:
    """Add the member `key` to every export. One builder a key: registering another builder for
    a key already taken is a programming error (two apps would each think they own it)."""
    section = ExportSection(key=key, builder=builder, order=order)
    existing = _export_sections.get(key)
    if existing is not None and existing.builder is not builder:
        raise ValueError(f"export section {key!r} is registered twice with different builders")
    _export_sections[key] = section
    return section


def export_sections() -> list[ExportSection]:
    return sorted(_export_sections.values(), key=lambda section: section.order)


# --- The record of processing ---------------------------------------------------------------

ProcessingProvider = Callable[[], "list[ProcessingActivity]"]

_processing_providers: list[ProcessingProvider] = []


def processing_activities_register(provider: ProcessingProvider) -> ProcessingProvider:
    """Add `provider()`'s activities (wallet.processing.ProcessingActivity) to the record of
    processing. It is called on every request of /processing/: a few queries at most, never
    one per row."""
    if provider not in _processing_providers:
        _processing_providers.append(provider)
    return provider


def processing_activities() -> list[ProcessingActivity]:
    return [activity for provider in _processing_providers for activity in provider()]


# --- Erasure (wallet.erasure) --------------------------------------------------------------------

ErasureCallback = Callable[["Citizen", "datetime"], "dict[str, int] | None"]

_before_erasure: list[ErasureCallback] = []


def before_erasure(callback: ErasureCallback) -> ErasureCallback:
    """Run `callback(citizen, erased_at)` when the citizen is erased: in the erasure's
    transaction on the default database, holding the citizen row's lock, before the citizen's
    rows are deleted. It runs at the commit point, and again just before the rows are deleted
    (to catch what reached the citizen in between), so it must be idempotent; it may change only
    the default database (a dry run rolls it back). It returns counts to report, e.g.
    {"consents_withdrawn": 2}, or None. A failure aborts the erasure: nothing has changed."""
    if callback not in _before_erasure:
        _before_erasure.append(callback)
    return callback


def citizen_erasing(*, citizen: Citizen, erased_at: datetime) -> dict[str, int]:
    """The registered erasure callbacks, in registration order; their counts added up."""
    counts: dict[str, int] = {}
    for callback in list(_before_erasure):
        for name, value in (callback(citizen, erased_at) or {}).items():
            counts[name] = counts.get(name, 0) + value
    return counts
