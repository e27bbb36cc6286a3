"""The GDPR API's tree is the citizen's export in the specification's nodes: nothing the export
holds of the citizen is missing from it, and its shape is the specification's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.exports import citizen_with_everything
from wallet.export import citizen_export
from wallet.gdpr_api import ROOT_KEY, gdpr_tree, node_key

pytestmark = pytest.mark.django_db(databases="__all__")


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node.get("children", []):
        found.extend(_nodes(child))
    return found


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [] if value is None or value == "" else [value]


def _as_tree_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def test_every_node_has_an_upper_case_key_and_either_a_string_value_or_children():
    tree = gdpr_tree(citizen_export(citizen=citizen_with_everything()))

    assert tree["key"] == ROOT_KEY
    for node in _nodes(tree):
        assert node["key"] == node["key"].upper() and node["key"].replace("_", "").isalnum()
        assert set(node) in ({"key", "value"}, {"key", "children"}), node
        if "value" in node:
            assert isinstance(node["value"], str) and node["value"] != ""
        else:
            assert node["children"], node  # an empty heading is left out


def test_every_value_the_export_holds_of_the_citizen_is_in_the_tree():
    document = citizen_export(citizen=citizen_with_everything())
    tree_values = {node["value"] for node in _nodes(gdpr_tree(document)) if "value" in node}

    held = {
        "profile": [entry["value"] for entry in document["profile"].values()],
        "records": [
            [field["value"] for field in record["fields"].values()] + [record["otherValues"]]
            for record in document["records"]
        ],
        "citizen": document["citizen"],
        "consents": [
            {key: consent[key] for key in ("id", "pairwiseId", "fields", "state", "givenAt")}
            for consent in document["consents"]
        ],
        "consentRequests": [
            {key: request[key] for key in ("id", "state", "createdAt")}
            for request in document["consentRequests"]
        ],
        "accessLog": [
            {key: entry[key] for key in ("seq", "at", "fields", "requestId")}
            for entry in document["accessLog"]["entries"]
        ],
    }
    for section, values in held.items():
        leaves = _leaves(values)
        assert leaves, section  # the citizen has something of each
        missing = {_as_tree_value(leaf) for leaf in leaves} - tree_values
        assert not missing, (section, missing)


def test_what_only_a_machine_checks_stays_in_the_export():
    document = citizen_export(citizen=citizen_with_everything())
    tree = gdpr_tree(document)
    keys = {node["key"] for node in _nodes(tree)}
    values = {node["value"] for node in _nodes(tree) if "value" in node}

    assert {"SIGNATURE", "RECEIPT", "CONSENT_RECORD", "MAC", "CHAIN_HASH", "LABEL"}.isdisjoint(keys)
    assert document["signature"] not in values
    assert document["consents"][0]["receipt"] not in values


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("fetchedAt", "FETCHED_AT"),
        ("youth.membership.status", "YOUTH_MEMBERSHIP_STATUS"),
        ("consentRequests", "CONSENT_REQUESTS"),
        ("id", "ID"),
        ("$schema", "_SCHEMA"),
    ],
)
def test_keys(name, key):
    assert node_key(name) == key
