"""The core's extension points (wallet.hooks): the apps plug in, the core imports none of them."""

import pytest

from tests.factories import CitizenFactory
from wallet import hooks

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in_callbacks(monkeypatch):
    """The registry as the apps left it, restored after the test."""
    registered = list(hooks._signed_in)
    monkeypatch.setattr(hooks, "_signed_in", registered)
    return registered


def test_sign_in_runs_every_registered_callback_in_order_once(signed_in_callbacks):
    # given two callbacks, one of them registered twice
    calls = []

    def first(citizen):
        calls.append(("first", citizen.pk))

    def second(citizen):
        calls.append(("second", citizen.pk))

    signed_in_callbacks.clear()
    hooks.on_citizen_signed_in(first)
    hooks.on_citizen_signed_in(second)
    hooks.on_citizen_signed_in(first)
    citizen = CitizenFactory()

    # when the citizen signs in
    hooks.citizen_signed_in(citizen=citizen)

    # then each ran once, in registration order, with the citizen
    assert calls == [("first", citizen.pk), ("second", citizen.pk)]


def test_a_failing_callback_fails_the_sign_in(signed_in_callbacks):
    def broken(citizen):
        raise RuntimeError("broker down")

    signed_in_callbacks.clear()
    hooks.on_citizen_signed_in(broken)

    with pytest.raises(RuntimeError):
        hooks.citizen_signed_in(citizen=CitizenFactory())
