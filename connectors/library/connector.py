"""Library accounts, loans, holds and fines from the libraries' Sierra ILS (REST v6).

The library keys patrons on its own numeric id, which the wallet learns when the citizen links
their card (barcode + PIN) and keeps sealed, with a blind index for sweeps. Only citizens who
linked a card are covered.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
from django.db.models import QuerySet

from connectors import parsing
from connectors.base import (
    CitizenFetch,
    CitizenLink,
    ConfigDefaults,
    Connector,
    InvalidRecord,
    MeField,
    SourceInfo,
    SweepMode,
)
from connectors.library.catalogue import ACCOUNT, FINE, HOLD, LOAN
from connectors.library.client import PATRON_BATCH, SierraClient, sierra_token_url
from connectors.models import LIBRARY_PATRON_ID, LibraryLink
from wallet import crypto
from wallet.catalogue import Labels
from wallet.models import Citizen
from wallet.services import UpstreamRecord
from wallet.vault import Vault, citizen_reading_required

KINDS = {"account", "loan", "hold", "fine"}


def patron_index(patron_id: str) -> str:
    return crypto.blind_index(purpose="library-patron-id", value=str(patron_id))


def barcode_index(barcode: str) -> str:
    return crypto.blind_index(purpose="library-barcode", value=barcode)


def linked_patron_id(citizen: Citizen) -> str | None:
    link = LibraryLink.objects.filter(citizen=citizen).first()
    if link is None:
        return None
    return citizen_reading_required(citizen).open_text(
        LIBRARY_PATRON_ID, row_id=link.pk, ciphertext=link.patron_id_sealed
    )


def _entry_id(entry: dict[str, Any]) -> str:
    """Ids of checkouts, holds and fines are URLs: the id is the last path segment."""
    value = entry.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip("/"):
        raise InvalidRecord("id is missing")
    return value.rstrip("/").rsplit("/", 1)[-1]


def _name(node: dict[str, Any], key: str) -> str | None:
    inner = parsing.obj(node, key)
    return parsing.text(inner, "name") or parsing.text(inner, "display")


def parse_account(patron: dict[str, Any]) -> UpstreamRecord:
    barcodes = patron.get("barcodes") or []
    if not isinstance(barcodes, list) or not all(isinstance(b, str) for b in barcodes):
        raise InvalidRecord("barcodes is not a list of strings")
    names = patron.get("names")
    if names is not None and not isinstance(names, list):
        raise InvalidRecord("names is not a list")
    # The name is what the citizen recognises; the code (stable when a branch is renamed) is
    # kept beside it, and shown only when the library sends no name.
    home = parsing.obj(patron, "homeLibrary")
    home_code = parsing.text(home, "code") or parsing.text(patron, "homeLibraryCode")
    patron_id = patron.get("id")
    if isinstance(patron_id, bool) or not isinstance(patron_id, int | str) or patron_id == "":
        raise InvalidRecord("id is missing")
    return UpstreamRecord(
        kind="account",
        external_id=str(patron_id),
        payload={
            "barcode": barcodes[0] if barcodes else None,
            "home_library": _name(patron, "homeLibrary") or home_code,
            "home_library_code": home_code,
            "expiration_date": parsing.iso_date(patron, "expirationDate"),
            "money_owed": parsing.decimal(patron, "moneyOwed"),
        },
    )


def parse_loan(entry: dict[str, Any]) -> UpstreamRecord:
    renewals = entry.get("numberOfRenewals")
    if renewals is not None and (isinstance(renewals, bool) or not isinstance(renewals, int)):
        raise InvalidRecord("numberOfRenewals is not a number")
    return UpstreamRecord(
        kind="loan",
        external_id=_entry_id(entry),
        payload={
            "call_number": parsing.text(entry, "callNumber"),
            "due_date": parsing.iso_date(entry, "dueDate", required=True),
            "renewals": renewals,
        },
    )


def parse_hold(entry: dict[str, Any]) -> UpstreamRecord:
    return UpstreamRecord(
        kind="hold",
        external_id=_entry_id(entry),
        payload={
            "status": _name(entry, "status"),
            "pickup_location": _name(entry, "pickupLocation"),
            "pickup_by_date": parsing.iso_date(entry, "pickupByDate"),
        },
    )


def parse_fine(entry: dict[str, Any]) -> UpstreamRecord:
    amounts = [parsing.decimal(entry, key) for key in ("itemCharge", "processingFee", "billingFee")]
    paid = parsing.decimal(entry, "paidAmount")
    owed = sum((Decimal(a) for a in amounts if a), Decimal(0)) - Decimal(paid or 0)
    return UpstreamRecord(
        kind="fine",
        external_id=_entry_id(entry),
        payload={
            "charge_type": _name(entry, "chargeType"),
            "amount_owed": str(owed),
            "assessed_date": parsing.iso_date(entry, "assessedDate"),
        },
    )


def _patron_fetch(sierra: SierraClient, patron_id: str, patrons: list[Any]) -> CitizenFetch:
    """One patron's records: the account from the patron's entry (`patrons`: what came for
    the id; none, or a deleted one, means gone upstream and everything ends), then the
    checkouts, holds and fines."""
    fetch = CitizenFetch(complete_kinds=set(KINDS))
    if not patrons or any(isinstance(p, dict) and p.get("deleted") is True for p in patrons):
        return fetch
    parsers = (
        ("account", lambda: patrons, parse_account),
        ("loan", lambda: sierra.entries(f"patrons/{patron_id}/checkouts"), parse_loan),
        ("hold", lambda: sierra.entries(f"patrons/{patron_id}/holds"), parse_hold),
        ("fine", lambda: sierra.entries(f"patrons/{patron_id}/fines"), parse_fine),
    )
    for kind, load, parse in parsers:
        for entry in load():
            try:
                if not isinstance(entry, dict):
                    raise InvalidRecord("entry is not an object")
                fetch.records.append(parse(entry))
            except InvalidRecord as exc:
                fetch.rejected.append(f"library.{kind}: {exc}")
                fetch.complete_kinds.discard(kind)
    return fetch


def _done(fetch: CitizenFetch) -> Future[CitizenFetch]:
    future: Future[CitizenFetch] = Future()
    future.set_result(fetch)
    return future


def _failed(error: Exception) -> Future[CitizenFetch]:
    future: Future[CitizenFetch] = Future()
    future.set_exception(error)
    return future


class LibraryConnector(Connector):
    source = "library"
    labels = Labels("Kirjasto", "Bibliotek", "Library")
    kinds = (ACCOUNT, LOAN, HOLD, FINE)
    me_fields = (
        MeField(
            "library_account",
            ACCOUNT,
            "LibraryAccount",
            many=False,
            children=(
                MeField("loans", LOAN, "LibraryLoan"),
                MeField("holds", HOLD, "LibraryHold"),
                MeField("fines", FINE, "LibraryFine"),
            ),
        ),
    )
    sweep_modes = frozenset({SweepMode.FULL, SweepMode.INCREMENTAL})
    info = SourceInfo(
        controller=Labels(
            "Helsingin kaupunki, kulttuurin ja vapaa-ajan toimiala (Helsingin kaupunginkirjasto)",
            "Helsingfors stad, kultur- och fritidssektorn (Helsingfors stadsbibliotek)",
            "City of Helsinki, Culture and Leisure Division (Helsinki City Library)",
        ),
        lawful_basis=Labels(
            "Sopimuksen täytäntöönpano (kirjastokortin käyttöehdot), tietosuoja-asetuksen "
            "6 artiklan 1 kohdan b alakohta",
            "Fullgörande av avtal (villkor för bibliotekskort), dataskyddsförordningen artikel "
            "6.1 b",
            "Performance of a contract (library card terms), GDPR art. 6(1)(b)",
        ),
        purpose=Labels(
            "Kirjaston lainat, varaukset ja maksut",
            "Bibliotekets lån, reservationer och avgifter",
            "Library loans, holds and fees",
        ),
        # A month: loans, holds and fees end all the time (every return), and a list of
        # returned loans is a reading history, which a library keeps only when the patron asks
        # it to. An ended loan, hold or fee stays long enough to see it was returned, collected
        # or paid; the wallet never builds the reading history the library does not keep.
        retention=Labels(
            "{period} sen jälkeen, kun laina on palautettu, varaus noudettu tai peruttu tai "
            "maksu maksettu (kun kirjaston järjestelmä ei enää näytä sitä)",
            "{period} efter att ett lån har återlämnats, en reservation hämtats eller avbokats "
            "eller en avgift betalats (när bibliotekets system inte längre visar den)",
            "{period} after a loan is returned, a hold collected or cancelled or a fee paid "
            "(when the library's system no longer lists it)",
        ),
        retention_after_end=timedelta(days=30),
        system=Labels(
            "Kirjaston asiakas- ja lainausjärjestelmä (Sierra)",
            "Bibliotekets kund- och lånesystem (Sierra)",
            "The library's patron and circulation system (Sierra)",
        ),
    )
    other_data = (
        Labels(
            "Linkitetyn kirjastokortin asiakasnumero (salattuna) ja kortin numeron tunniste "
            "(sokea indeksi, ei itse numeroa); ei PIN-koodia",
            "Kundnumret för det länkade bibliotekskortet (krypterat) och en identifierare för "
            "kortnumret (blint index, inte själva numret); aldrig PIN-koden",
            "The linked library card's patron id (encrypted) and an identifier of the card number "
            "(a blind index, not the number itself); never the PIN",
        ),
        Labels(
            "Kortin linkitysyritykset (aika ja onnistuiko), arvailun rajoittamiseksi",
            "Försök att länka kortet (tidpunkt och om det lyckades), för att begränsa gissningar",
            "Card-linking attempts (when, and whether they succeeded), to limit guessing",
        ),
    )

    def config_defaults(self) -> ConfigDefaults:
        """Sierra's own API client (key and secret), not the city's provider; the token URL
        follows the effective base URL (token_url_for)."""
        conf = self.settings
        return ConfigDefaults(
            base_url=conf["BASE_URL"].rstrip("/") + "/",
            token_url="",
            client_id=conf["CLIENT_KEY"],
            client_secret=conf["CLIENT_SECRET"],
        )

    def token_url_for(self, *, base_url: str, default: str) -> str:
        """Wherever the API is (an admin's base URL included), its token endpoint is too."""
        return sierra_token_url(base_url)

    def needs_citizen_link(self, citizen: Citizen) -> bool:
        """The library knows patrons by its own id: a citizen links their card first."""
        return not LibraryLink.objects.filter(citizen=citizen).exists()

    def citizen_link(self, *, citizen: Citizen, vault: Vault | None) -> CitizenLink:
        """The linked card's patron id (theirs to see in their export); the barcode is not kept
        (the account record holds it) and the PIN never is. 1 query."""
        link = LibraryLink.objects.filter(citizen=citizen).first()
        if link is None:
            return CitizenLink(linked=False)
        patron_id = (
            vault.open_text(LIBRARY_PATRON_ID, row_id=link.pk, ciphertext=link.patron_id_sealed)
            if vault is not None
            else None  # sealed, and no key to open it: erased half-way
        )
        return CitizenLink(linked=True, linked_at=link.linked_at, account_id=patron_id)

    def eligible_citizens(self) -> QuerySet[Citizen]:
        return Citizen.objects.filter(is_active=True, library_link__isnull=False)

    def fetch_citizen(self, *, citizen: Citizen, client: httpx.Client) -> CitizenFetch:
        patron_id = linked_patron_id(citizen)
        if patron_id is None:
            return CitizenFetch(complete_kinds=set(KINDS))
        sierra = SierraClient(client)
        patron = sierra.patron(patron_id)
        return _patron_fetch(sierra, patron_id, [patron] if patron is not None else [])

    def fetch_citizens(
        self, *, citizens: Sequence[Citizen], client: httpx.Client, pool: Executor
    ) -> Iterator[tuple[Citizen, Future[CitizenFetch]]]:
        """Patrons in batches (`GET patrons?id=...`, PATRON_BATCH a call), then each patron's
        checkouts, holds and fines, all on the pool. The patron ids are opened here, in the
        sweep's thread (the citizens' keys), so the pool's threads only speak HTTP."""
        sierra = SierraClient(client)
        linked: list[tuple[Citizen, str]] = []
        for citizen in citizens:
            try:
                patron_id = linked_patron_id(citizen)
            except Exception as exc:  # their key is gone (erased meanwhile): theirs alone fails
                yield citizen, _failed(exc)
                continue
            if patron_id is None:  # unlinked since the sweep began: everything ends
                yield citizen, _done(CitizenFetch(complete_kinds=set(KINDS)))
            else:
                linked.append((citizen, patron_id))
        pending: dict[Future[Any], list[tuple[Citizen, str]] | Citizen] = {}
        for start in range(0, len(linked), PATRON_BATCH):
            batch = linked[start : start + PATRON_BATCH]
            pending[pool.submit(sierra.patrons, [pid for _, pid in batch])] = batch
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                if isinstance(job, Citizen):  # one patron's lists: that citizen's fetch
                    yield job, future
                    continue
                if future.exception() is not None:  # the batch failed: so did each of them
                    for citizen, _ in job:
                        yield citizen, future
                    continue
                patrons = future.result()
                for citizen, patron_id in job:
                    lists = pool.submit(_patron_fetch, sierra, patron_id, patrons[patron_id])
                    pending[lists] = citizen

    def changed_citizens(self, *, since: datetime, client: httpx.Client) -> set[UUID] | None:
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        indexes = {
            patron_index(pid) for pid in SierraClient(client).changed_patron_ids(since=stamp)
        }
        return set(
            LibraryLink.objects.filter(patron_index__in=indexes).values_list(
                "citizen_id", flat=True
            )
        )
