"""The two demo services `make run` registers, matching the sandbox provider's demo clients.

Their client ids are configuration shared with the sandbox's seed, not an import of it: the
wallet never imports sandbox code.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from consent.models import PurposeCategory, Service, ServiceClient, ServicePurpose

DEMO_SERVICES: list[dict[str, Any]] = [
    {
        "slug": "demo-service",
        "client_id": "demo-service",
        "name": ("Nuorisotalon varaukset", "Ungdomsgårdens bokningar", "Youth centre bookings"),
        "description": (
            "Varaa nuorisotalon tiloja ja tapahtumia jäsenkortillasi.",
            "Boka ungdomsgårdens lokaler och evenemang med ditt medlemskort.",
            "Book youth centre rooms and events with your membership card.",
        ),
        "redirect_uri": "http://127.0.0.1:8200/consent/callback",
        "fields": [
            "profile.first_name",
            "profile.last_name",
            "profile.email",
            "profile.phone",
            "youth.membership.membership_number",
            "youth.membership.status",
            "youth.membership.expiration",
            "youth.membership.birth_date",
        ],
        "purpose": (
            "membership-check",
            PurposeCategory.CORE_FUNCTION,
            (
                "Jäsenyyden tarkistus varauksia varten",
                "Kontroll av medlemskap för bokningar",
                "Checking your youth membership for bookings",
            ),
        ),
    },
    {
        "slug": "demo-service-2",
        "client_id": "demo-service-2",
        "name": ("Satamapalvelut", "Hamntjänster", "Harbour services"),
        "description": (
            "Venepaikan asiat ja satamatiedotteet.",
            "Båtplatsärenden och hamnmeddelanden.",
            "Berth matters and harbour notices.",
        ),
        "redirect_uri": "http://127.0.0.1:8201/consent/callback",
        "fields": [
            "profile.email",
            "profile.phone",
            "berths.lease.harbor",
            "berths.lease.pier",
            "berths.lease.berth_number",
            "berths.lease.status",
            "berths.lease.end_date",
            "berths.boat.name",
            "berths.boat.registration_number",
        ],
        "purpose": (
            "harbour-notices",
            PurposeCategory.CONTACT_REQUESTED,
            (
                "Satamatiedotteet venepaikkasi satamasta",
                "Meddelanden från din båtplats hamn",
                "Notices from your berth's harbour",
            ),
        ),
    },
]


@transaction.atomic
def demo_services_seed() -> list[Service]:
    """Register (or update) the demo services. Idempotent."""
    services = []
    for demo in DEMO_SERVICES:
        (name_fi, name_sv, name_en), (desc_fi, desc_sv, desc_en) = demo["name"], demo["description"]
        service, _ = Service.objects.update_or_create(
            slug=demo["slug"],
            defaults={
                "name_fi": name_fi,
                "name_sv": name_sv,
                "name_en": name_en,
                "description_fi": desc_fi,
                "description_sv": desc_sv,
                "description_en": desc_en,
                "privacy_policy_url": f"https://example.org/{demo['slug']}/privacy",
                "controller_name": f"{name_en} (demo)",
                "controller_contact": "Privacy team",
                "controller_address": "PL 1, 00099 Helsingin kaupunki",
                "controller_email": "privacy@example.org",
                "controller_phone": "+358 9 310 1691",
                "allowed_fields": demo["fields"],
                "redirect_uris": demo["redirect_uri"],
                "is_active": True,
            },
        )
        ServiceClient.objects.update_or_create(
            client_id=demo["client_id"], defaults={"service": service}
        )
        code, category, (purpose_fi, purpose_sv, purpose_en) = demo["purpose"]
        ServicePurpose.objects.update_or_create(
            service=service,
            code=code,
            defaults={
                "category": category,
                "description_fi": purpose_fi,
                "description_sv": purpose_sv,
                "description_en": purpose_en,
            },
        )
        services.append(service)
    return services
