"""The GraphQL endpoint's rules: who may ask, what may be asked, what errors look like."""

import pytest
from django.test import Client

from tests.factories import CitizenFactory
from tests.queries import assert_num_queries
from wallet import services
from wallet.models import DataRecord, Profile
from wallet.services import UpstreamRecord

pytestmark = pytest.mark.django_db(databases="__all__")

ME_FULL = """{ me {
  profile { firstName lastName email sources { fieldId source } }
  youthMembership {
    membershipNumber status expiration birthDate withheldFields origin { source state }
  }
} }"""


def _gql(client, query, **extra):
    return client.post("/graphql/", {"query": query}, content_type="application/json", **extra)


def _citizen_with_card(cards=1):
    citizen = CitizenFactory()
    services.profile_update_from_claims(
        citizen=citizen,
        claims={"given_name": "Testi", "family_name": "Henkilö", "email": "t@example.com"},
    )
    records = [
        UpstreamRecord(
            kind="membership",
            external_id=f"node-{n}",
            payload={
                "membership_number": f"90{n:04d}",
                "status": "ACTIVE",
                "expiration": "2027-08-31",
                "birth_date": "2011-05-14",
            },
        )
        for n in range(cards)
    ]
    services.records_upsert(citizen=citizen, source="youth", records=records)
    return citizen


def test_me_without_login_is_unauthenticated():
    response = _gql(Client(), "{ me { profile { firstName } } }")
    body = response.json()
    assert body["data"]["me"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_session_user_reads_own_data_with_provenance(client):
    citizen = _citizen_with_card()
    client.force_login(citizen)
    session = client.session
    session["wallet_loa"] = "substantial"
    session.save()
    me = _gql(client, ME_FULL).json()["data"]["me"]
    assert me["profile"]["firstName"] == "Testi"
    assert {"fieldId": "profile.email", "source": "oidc"} in me["profile"]["sources"]
    card = me["youthMembership"]
    assert card["membershipNumber"] == "900000" and card["status"] == "ACTIVE"
    assert card["birthDate"] == "2011-05-14" and card["withheldFields"] == []
    assert card["origin"] == {"source": "youth", "state": "active"}


def test_sensitive_fields_are_withheld_below_substantial_assurance(client):
    citizen = _citizen_with_card()
    client.force_login(citizen)
    session = client.session
    session["wallet_loa"] = "low"
    session.save()
    card = _gql(client, ME_FULL).json()["data"]["me"]["youthMembership"]
    assert card["birthDate"] is None
    assert "youth.membership.birth_date" in card["withheldFields"]
    assert card["membershipNumber"] == "900000"  # not sensitive


@pytest.mark.parametrize("cards", [1, 6])
def test_me_query_count_is_constant_in_the_number_of_records(client, cards):
    citizen = _citizen_with_card(cards)
    DataRecord.objects.filter(citizen=citizen).exclude(pk=DataRecord.objects.first().pk).update(
        state=DataRecord.State.ENDED
    )
    client.force_login(citizen)
    # data: 1 session, 1 citizen, 1 profile with all records (whatever their number); keys: 1 key
    with assert_num_queries(default=3, keys=1):
        response = _gql(client, ME_FULL)
    assert response.json()["data"]["me"]["youthMembership"] is not None


def test_session_post_without_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    client.force_login(CitizenFactory())
    response = _gql(client, "{ me { profile { firstName } } }")
    assert response.status_code == 403


def test_mutation_over_get_is_refused(client):
    client.force_login(CitizenFactory())
    response = client.get("/graphql/", {"query": "mutation { syncMyData { errors { code } } }"})
    assert response.status_code == 405


def test_introspection_is_off_outside_debug_but_typename_works(client):
    body = _gql(client, "{ __schema { types { name } } }").json()
    assert body["errors"] and "introspection" in body["errors"][0]["message"].lower()
    assert _gql(client, "{ __typename }").json()["data"] == {"__typename": "Query"}


def test_queries_deeper_than_the_limit_are_refused(client, settings):
    settings.GRAPHQL_MAX_DEPTH = 2
    body = _gql(client, "{ me { youthMembership { origin { source } } } }").json()
    assert "data" not in body or body.get("data") is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


def test_internal_errors_never_show_their_text(client, caplog):
    """A payload that does not open (here: moved from another citizen) is an internal error
    with a generic message; the log names the exception type only."""
    victim, thief = _citizen_with_card(), CitizenFactory()
    services.profile_update_from_claims(citizen=thief, claims={"given_name": "X"})
    Profile.objects.filter(citizen=thief).update(
        payload=Profile.objects.get(citizen=victim).payload
    )
    client.force_login(thief)
    body = _gql(client, "{ me { profile { firstName } } }").json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert error["message"] == "Something went wrong on our side."
    assert "Testi" not in str(body) and "ciphertext" not in str(body)
    assert "DecryptionError" in caplog.text


def test_front_page_withholds_sensitive_fields_below_substantial(client):
    citizen = _citizen_with_card()
    client.force_login(citizen)
    session = client.session
    session["wallet_loa"] = "low"
    session.save()
    page = client.get("/").content.decode()  # in Finnish, the default: dates as 14.5.2011
    assert "900000" in page and "14.5.2011" not in page and "2011-05-14" not in page
    assert "Näytetään vahvemman tunnistautumisen jälkeen" in page
    session["wallet_loa"] = "high"
    session.save()
    assert "14.5.2011" in client.get("/").content.decode()
