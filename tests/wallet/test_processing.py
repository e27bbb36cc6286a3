"""The record of processing (GDPR article 30) at /processing/: generated from the sources the
settings enable, the registered services and the field catalogue; JSON for machines, a page for
people in three languages; public, with no personal data; its queries flat in the number of
services."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from connectors import base
from consent.models import PurposeCategory, Service, ServicePurpose
from consent.processing import CATEGORY_LABELS
from tests.factories import CitizenFactory
from wallet import catalogue
from wallet.services import UpstreamRecord, profile_update_by_citizen, records_upsert

pytestmark = pytest.mark.django_db(databases="__all__")

URL = "/processing/"


def _service(slug: str, fields: list[str], *, active: bool = True, purposes: int = 1) -> Service:
    service = Service.objects.create(
        slug=slug,
        name_fi=f"Palvelu {slug}",
        name_sv=f"Tjänst {slug}",
        name_en=f"Service {slug}",
        description_fi="Kuvaus",
        description_sv="Beskrivning",
        description_en="Description",
        privacy_policy_url=f"https://example.org/{slug}/privacy",
        controller_name=f"Controller of {slug}",
        controller_address="PL 1, 00099 Helsingin kaupunki",
        controller_email=f"privacy@{slug}.example.org",
        controller_phone="+358 9 310 1691",
        controller_contact="Privacy team",
        allowed_fields=fields,
        is_active=active,
    )
    for number in range(purposes):
        ServicePurpose.objects.create(
            service=service,
            code=f"purpose-{number}",
            description_fi=f"Tarkoitus {number}",
            description_sv=f"Ändamål {number}",
            description_en=f"Purpose {number}",
            category=PurposeCategory.THIRD_PARTY_CORE if number else PurposeCategory.DELIVERY,
            third_party_disclosure=bool(number),
        )
    return service


def _json(client: Client) -> dict:  # type: ignore[type-arg]
    answer = client.get(URL, {"format": "json"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    return answer.json()  # type: ignore[no-any-return]


def _by_key(items: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {item["key"]: item for item in items}


def test_each_source_is_listed_from_its_connector_and_the_catalogue(client):
    record = _json(client)

    sources = _by_key(record["sources"])
    assert list(sources) == ["youth", "berths", "library"]
    for connector in base.connectors():
        listed = sources[connector.source]
        assert listed["kind"] == "source"
        assert listed["name"]["fi"] == connector.labels.fi
        assert listed["controller"]["name"]["sv"] == connector.info.controller.sv
        assert listed["lawful_basis"]["en"] == connector.info.lawful_basis.en
        assert listed["purposes"][0]["description"]["fi"] == connector.info.purpose.fi
        assert listed["origin"]["en"] == connector.info.system.en
        assert listed["retention"] == {
            "days": connector.retention_after_end.days,
            "text": {
                "fi": connector.retention_text.fi,
                "sv": connector.retention_text.sv,
                "en": connector.retention_text.en,
            },
        }
        # its categories are its kinds, with every field of each (catalogue ids and labels)
        assert [c["kind"] for c in listed["categories"]] == [k.id for k in connector.kinds]
        for category, kind in zip(listed["categories"], connector.kinds, strict=True):
            assert category["name"]["sv"] == kind.labels.sv
            assert [f["id"] for f in category["fields"]] == [
                kind.field_id(k) for k in kind.field_keys()
            ]
            for field in category["fields"]:
                catalogued = catalogue.field_by_id(field["id"])
                assert field["name"]["en"] == catalogued.labels.en
                assert field["sensitive"] is catalogued.sensitive
    youth_fields = {f["id"]: f for c in sources["youth"]["categories"] for f in c["fields"]}
    assert youth_fields["youth.membership.birth_date"]["sensitive"] is True
    assert youth_fields["youth.membership.status"]["sensitive"] is False
    assert sources["youth"]["retention"]["days"] == 365
    assert sources["library"]["other_data"][0]["en"].startswith("The linked library card")


def test_a_services_registration_is_its_entry_and_makes_it_a_recipient(client):
    _service("harbour-app", ["berths.lease.harbor", "profile.email"], purposes=2)
    _service("suspended", ["youth.membership.status"], active=False)

    record = _json(client)

    services = _by_key(record["services"])
    assert list(services) == ["harbour-app"], "a suspended service may not ask: not listed"
    service = services["harbour-app"]
    assert service["name"] == {
        "fi": "Palvelu harbour-app",
        "sv": "Tjänst harbour-app",
        "en": "Service harbour-app",
    }
    assert service["controller"] == {
        "name": dict.fromkeys(("fi", "sv", "en"), "Controller of harbour-app"),
        "address": "PL 1, 00099 Helsingin kaupunki",
        "email": "privacy@harbour-app.example.org",
        "phone": "+358 9 310 1691",
        "contact": "Privacy team",
    }
    assert service["privacy_policy_url"] == "https://example.org/harbour-app/privacy"
    assert service["lawful_basis"]["en"] == "The citizen's consent, GDPR art. 6(1)(a)"
    assert service["purposes"] == [
        {
            "code": "purpose-0",
            "description": {"fi": "Tarkoitus 0", "sv": "Ändamål 0", "en": "Purpose 0"},
            "category": "Delivery",
            "category_label": {"fi": "Toimitus", "sv": "Leverans", "en": "Delivery"},
            "third_party_disclosure": False,
        },
        {
            "code": "purpose-1",
            "description": {"fi": "Tarkoitus 1", "sv": "Ändamål 1", "en": "Purpose 1"},
            "category": "3rd Party Sharing for Core Function",
            "category_label": {
                "fi": "Luovutus kolmannelle osapuolelle palvelun perustoimintoa varten",
                "sv": "Utlämnande till tredje part för tjänstens grundfunktion",
                "en": "Third-party sharing, core function",
            },
            "third_party_disclosure": True,
        },
    ]
    assert [(c["kind"], [f["id"] for f in c["fields"]]) for c in service["categories"]] == [
        ("berths.lease", ["berths.lease.harbor"]),
        ("profile", ["profile.email"]),
    ]
    assert service["retention"]["days"] is None
    assert "access log" in service["retention"]["text"]["en"]
    assert service["recipients"] == []
    # the sources (and the wallet) whose fields it may ask for name it as a recipient
    recipients = {
        item["key"]: [r["key"] for r in item["recipients"]]
        for item in [record["wallet"], *record["sources"]]
    }
    assert recipients == {
        "wallet": ["citizen", "harbour-app"],
        "youth": ["citizen"],
        "berths": ["citizen", "harbour-app"],
        "library": ["citizen"],
    }


def test_the_wallet_is_an_activity_of_its_own_with_the_controller_from_the_settings(
    client, settings
):
    settings.WALLET_CONTROLLER = {
        **settings.WALLET_CONTROLLER,
        "NAME_EN": "City of Helsinki, Test Division",
        "CONTACT": "tietosuoja@example.org",
        "PRIVACY_POLICY_URL": "https://example.org/wallet/privacy",
    }

    wallet = _json(client)["wallet"]

    assert (wallet["kind"], wallet["key"]) == ("wallet", "wallet")
    assert wallet["controller"]["name"]["en"] == "City of Helsinki, Test Division"
    assert wallet["controller"]["contact"] == "tietosuoja@example.org"
    assert wallet["privacy_policy_url"] == "https://example.org/wallet/privacy"
    [profile] = wallet["categories"]
    assert [f["id"] for f in profile["fields"]] == [
        catalogue.PROFILE.field_id(key) for key in catalogue.PROFILE.field_keys()
    ]
    other = " ".join(labels["en"] for labels in wallet["other_data"])
    assert "access log" in other and "consent receipts" in other and "sub" in other
    assert wallet["recipients"] == [
        {
            "kind": "citizen",
            "key": "citizen",
            "name": {"fi": "Asukas itse", "sv": "Invånaren själv", "en": "The citizen themselves"},
        }
    ]


@pytest.mark.usefixtures("fake_source_entry")
def test_a_fourth_source_is_listed_from_its_package_alone(client):
    _service("thing-reader", ["fake.thing.name"])

    record = _json(client)

    fake = _by_key(record["sources"])["fake"]
    assert fake["name"]["en"] == "Test source"
    assert fake["origin"]["en"] == "The test's server"
    assert fake["retention"] == {
        "days": 7,
        "text": {
            "fi": "7 päivää testin päättymisen jälkeen",
            "sv": "7 dagar efter att testet har slutat",
            "en": "7 days after the test has ended",
        },
    }
    [things] = fake["categories"]
    assert things["kind"] == "fake.thing" and things["name"]["sv"] == "Sak"
    fields = {f["id"]: f["sensitive"] for f in things["fields"]}
    assert fields == {
        "fake.thing.name": False,
        "fake.thing.level": False,
        "fake.thing.count": False,
        "fake.thing.due": False,
        "fake.thing.secret_note": True,
    }
    assert [r["key"] for r in fake["recipients"]] == ["citizen", "thing-reader"]


@pytest.fixture
def fake_source_entry(settings):  # type: ignore[no-untyped-def]
    """The test-only fourth source (tests/connectors/fake_source), enabled by its one entry."""
    settings.CONNECTORS = {
        **settings.CONNECTORS,
        "fake": {
            "PACKAGE": "tests.connectors.fake_source",
            "BASE_URL": "http://127.0.0.1:9/api/",
            "API_KEY": "not-used",
        },
    }


def test_a_field_of_a_source_since_removed_shows_as_its_id(client):
    _service("old-reader", ["gone.thing.name"])

    [service] = _json(client)["services"]

    assert service["categories"] == [
        {
            "kind": "gone.thing",
            "name": {"fi": "gone.thing", "sv": "gone.thing", "en": "gone.thing"},
            "fields": [
                {
                    "id": "gone.thing.name",
                    "name": {
                        "fi": "gone.thing.name",
                        "sv": "gone.thing.name",
                        "en": "gone.thing.name",
                    },
                    "sensitive": True,
                }
            ],
        }
    ]


def test_its_queries_do_not_grow_with_the_services(client, django_assert_num_queries):
    _service("first", ["youth.membership.status"], purposes=2)
    # 1 services, 2 their purposes
    with django_assert_num_queries(2):
        assert len(_json(client)["services"]) == 1
    for number in range(6):
        _service(f"more-{number}", ["library.loan.due_date", "profile.email"], purposes=3)
    with django_assert_num_queries(2):
        assert len(_json(client)["services"]) == 7
    with django_assert_num_queries(2):
        assert client.get(URL).status_code == 200


@pytest.mark.parametrize(
    ("language", "heading", "source", "retention", "services"),
    [
        (
            "fi",
            "Seloste käsittelytoimista",
            "Nuorisopalvelut",
            "1 vuosi sen jälkeen, kun jäsenyys on poistunut nuorisopalvelujen rekisteristä",
            "Palvelut, jotka voivat pyytää suostumusta",
        ),
        (
            "sv",
            "Register över behandling",
            "Ungdomstjänster",
            "1 år efter att medlemskapet har tagits bort ur ungdomstjänsternas register",
            "Tjänster som får be om samtycke",
        ),
        (
            "en",
            "Record of processing",
            "Youth services",
            "1 year after the membership has left the youth services&#x27; register",
            "Services that may ask for consent",
        ),
    ],
)
def test_the_page_is_public_and_in_each_language(language, heading, source, retention, services):
    _service("harbour-app", ["berths.lease.harbor"], purposes=2)
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)

    answer = browser.get(URL)

    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/html")
    page = answer.content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert f">{source}</h3>" in page and retention in page and services in page
    service_name = {"fi": "Palvelu", "sv": "Tjänst", "en": "Service"}[language]
    assert f">{service_name} harbour-app</h3>" in page
    assert "youth.membership.birth_date" in page
    assert 'href="/processing/?format=json"' in page
    assert answer.headers["Content-Language"] == language


def test_the_pages_footer_links_to_it():
    page = Client().get("/").content.decode()
    assert 'href="/processing/"' in page


def test_json_by_format_parameter_or_accept_header_and_a_clear_error_otherwise(client):
    by_accept = client.get(URL, HTTP_ACCEPT="application/json")
    assert by_accept["Content-Type"] == "application/json"
    assert set(by_accept.json()) == {"wallet", "sources", "services"}
    browser_like = client.get(URL, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser_like["Content-Type"].startswith("text/html")
    page_anyway = client.get(URL, {"format": "html"}, HTTP_ACCEPT="application/json")
    assert page_anyway["Content-Type"].startswith("text/html")
    for answer in (by_accept, browser_like):
        assert "Accept" in answer["Vary"]
        assert "public" in answer["Cache-Control"]
    wrong = client.get(URL, {"format": "xml"})
    assert wrong.status_code == 400
    assert wrong.content.decode() == "Unknown format: ask for ?format=json or ?format=html."


def test_it_holds_no_ones_data(client):
    citizen = CitizenFactory()
    marker = "Ainutlaatuinen-" + uuid.uuid4().hex[:8]
    profile_update_by_citizen(citizen=citizen, values={"nickname": marker})
    records_upsert(
        citizen=citizen,
        source="youth",
        records=[
            UpstreamRecord(kind="membership", external_id="m-1", payload={"school_name": marker})
        ],
    )

    texts = [client.get(URL).content.decode(), client.get(URL, {"format": "json"}).content.decode()]

    for text in texts:
        assert marker not in text and citizen.subject not in text and str(citizen.pk) not in text


def test_every_purpose_category_is_named_in_three_languages():
    assert set(CATEGORY_LABELS) == set(PurposeCategory.values)
    for category, labels in CATEGORY_LABELS.items():
        assert labels.en == PurposeCategory(category).label
        assert labels.fi.strip() and labels.sv.strip()
