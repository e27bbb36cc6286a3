"""The fake source's connector: `GET <base>/things/<sub>` with an API key, over the shared
transport (retries, breaker), answering `{"things": [...]}` or 404 for a stranger."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import httpx

from connectors import parsing
from connectors.base import (
    CitizenFetch,
    ConfigDefaults,
    Connector,
    InvalidRecord,
    MeField,
    SourceInfo,
    SweepMode,
)
from connectors.config import effective_config
from connectors.errors import UpstreamAuthFailed, UpstreamRejected
from connectors.transport import json_object, send_with_retries
from wallet.catalogue import CatalogueField, Labels, RecordKind, ValueType
from wallet.models import Citizen
from wallet.services import UpstreamRecord

THING = RecordKind(
    source="fake",
    kind="thing",
    labels=Labels("Asia", "Sak", "Thing"),
    fields=(
        CatalogueField("name", Labels("Nimi", "Namn", "Name")),
        CatalogueField(
            "level",
            Labels("Taso", "Nivå", "Level"),
            ValueType.ENUM,
            choices=("LOW", "HIGH"),
        ),
        CatalogueField("count", Labels("Määrä", "Antal", "Count"), ValueType.INTEGER),
        CatalogueField("due", Labels("Eräpäivä", "Förfallodag", "Due"), ValueType.DATE),
        CatalogueField(
            "secret_note",
            Labels("Salainen", "Hemlig", "Secret note"),
            sensitive=True,
        ),
    ),
)


def parse_thing(node: Any) -> UpstreamRecord:
    if not isinstance(node, dict):
        raise InvalidRecord("thing is not an object")
    level = parsing.text(node, "level", required=True)
    if level not in THING.field("level").choices:
        raise InvalidRecord("level is not a known level")
    return UpstreamRecord(
        kind="thing",
        external_id=parsing.text(node, "id", required=True) or "",
        payload={
            "name": parsing.text(node, "name"),
            "level": level,
            "count": node.get("count"),
            "due": parsing.iso_date(node, "due"),
            "secret_note": parsing.text(node, "secretNote"),
        },
    )


class FakeConnector(Connector):
    source = "fake"
    labels = Labels("Testilähde", "Testkälla", "Test source")
    kinds = (THING,)
    me_fields = (MeField("fake_things", THING, "FakeThing"),)
    sweep_modes = frozenset({SweepMode.FULL})
    info = SourceInfo(
        controller=Labels("Ei kukaan (testi)", "Ingen (ett test)", "Nobody (a test)"),
        lawful_basis=Labels("Ei mitään: testidataa", "Ingen: testdata", "None: test data"),
        purpose=Labels(
            "Liitinsopimuksen todistaminen",
            "Att bevisa kopplingsavtalet",
            "Proving the connector contract",
        ),
        retention=Labels(
            "{period} testin päättymisen jälkeen",
            "{period} efter att testet har slutat",
            "{period} after the test has ended",
        ),
        retention_after_end=timedelta(days=7),
        system=Labels("Testin palvelin", "Testets server", "The test's server"),
    )

    def config_defaults(self) -> ConfigDefaults:
        conf = self.settings
        return ConfigDefaults(
            base_url=conf["BASE_URL"].rstrip("/") + "/",
            token_url="",
            client_id="",
            client_secret=conf["API_KEY"],
        )

    def fetch_citizen(self, *, citizen: Citizen, client: httpx.Client) -> CitizenFetch:
        config = effective_config(self.source)
        response = send_with_retries(
            functools.partial(
                client.get,
                f"{config.base_url}things/{citizen.subject}",
                headers={"X-Api-Key": config.client_secret},
                timeout=self.settings["TIMEOUT_SECONDS"],
            ),
            system=self.source,
        )
        fetch = CitizenFetch(complete_kinds={"thing"})
        if response.status_code == 404:  # not known upstream
            return fetch
        if response.status_code == 401:
            raise UpstreamAuthFailed("fake refused the API key")
        if response.status_code != 200:
            raise UpstreamRejected(f"fake answered HTTP {response.status_code}")
        for node in json_object(response, system=self.source).get("things") or []:
            try:
                fetch.records.append(parse_thing(node))
            except InvalidRecord as exc:
                fetch.rejected.append(f"fake.thing: {exc}")
                fetch.complete_kinds.clear()
        return fetch
