"""Shared by the commands that act on one citizen: find them by their `sub`."""

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from wallet.erasure import erasure_latest
from wallet.models import Citizen, Erasure


def add_citizen_arguments(parser: CommandParser) -> None:
    parser.add_argument("--citizen", required=True, metavar="SUB", help="the citizen's `sub` claim")
    parser.add_argument(
        "--issuer", default=None, help="the identity provider (default: OIDC_ISSUER)"
    )


def citizen_from_options(options: dict) -> Citizen:
    issuer = options["issuer"] or settings.OIDC_ISSUER
    citizen = Citizen.objects.filter(issuer=issuer, subject=options["citizen"]).first()
    if citizen is None:
        raise CommandError("no citizen with that sub at that issuer")
    return citizen


def erasure_from_options(options: dict) -> Erasure | None:
    """The newest erasure of the `--citizen` the wallet still remembers, if any."""
    issuer = options["issuer"] or settings.OIDC_ISSUER
    return erasure_latest(issuer=issuer, subject=options["citizen"])
