"""The registered services in the record of processing (wallet.processing): one activity per
active service, from its registration: its controller, privacy policy, purposes and the fields
it may ask for. Registered in `ConsentConfig.ready()`; two queries however many services."""

from __future__ import annotations

from django.db.models import Prefetch

from consent.models import PurposeCategory, Service, ServicePurpose
from consent.selectors import purpose_description, service_description, service_name
from wallet.catalogue import Labels
from wallet.processing import ActivityKind, Controller, ProcessingActivity, Purpose, Retention

CONSENT_BASIS = Labels(
    "Asukkaan suostumus, tietosuoja-asetuksen 6 artiklan 1 kohdan a alakohta",
    "Invånarens samtycke, dataskyddsförordningen artikel 6.1 a",
    "The citizen's consent, GDPR art. 6(1)(a)",
)
# What the wallet keeps about a service's requests and reads; the service's own copy of what it
# read is its controller's to keep, as its privacy policy says.
CONSENT_RECORDS_RETENTION = Labels(
    "Lompakko säilyttää palvelun suostumuspyynnöt, suostumukset, niiden historian ja käyttölokin "
    "palvelun lukemisista niin kauan kuin asukkaalla on lompakko, myös peruutetut suostumukset, "
    "jotta historia voidaan tarkistaa; ne poistetaan, kun asukas poistaa tietonsa. Palvelun omat "
    "säilytysajat kerrotaan sen tietosuojaselosteessa.",
    "Plånboken sparar tjänstens samtyckesbegäranden, samtycken, deras historik och "
    "användningsloggen över tjänstens läsningar så länge invånaren har plånboken, även "
    "återkallade samtycken, så att historiken kan kontrolleras; de raderas när invånaren raderar "
    "sina uppgifter. Tjänstens egna lagringstider står i dess dataskyddsbeskrivning.",
    "The wallet keeps the service's consent requests, the consents, their history and the access "
    "log of the service's reads for as long as the citizen keeps the wallet, withdrawn consents "
    "included, so the history can be verified; they are erased when the citizen erases their "
    "data. The service's own retention is in its privacy policy.",
)
CATEGORY_LABELS: dict[str, Labels] = {
    PurposeCategory.CORE_FUNCTION: Labels(
        "Palvelun perustoiminto", "Tjänstens grundfunktion", "Core function"
    ),
    PurposeCategory.CONTRACTED_SERVICE: Labels(
        "Sovittu palvelu", "Avtalad tjänst", "Contracted service"
    ),
    PurposeCategory.DELIVERY: Labels("Toimitus", "Leverans", "Delivery"),
    PurposeCategory.CONTACT_REQUESTED: Labels(
        "Pyydetty yhteydenotto", "Begärd kontakt", "Contact requested"
    ),
    PurposeCategory.PERSONALIZED_EXPERIENCE: Labels(
        "Yksilöllistetty palvelu", "Personanpassad tjänst", "Personalized experience"
    ),
    PurposeCategory.MARKETING: Labels("Markkinointi", "Marknadsföring", "Marketing"),
    PurposeCategory.MARKETING_THIRD_PARTIES: Labels(
        "Kolmansien osapuolten markkinointi",
        "Marknadsföring av tredje parter",
        "Marketing by third parties",
    ),
    PurposeCategory.SHARING_FOR_DELIVERY: Labels(
        "Luovutus toimitusta varten", "Utlämnande för leverans", "Sharing for delivery"
    ),
    PurposeCategory.SHARING_FOR_MARKETING: Labels(
        "Luovutus markkinointia varten",
        "Utlämnande för marknadsföring",
        "Sharing for marketing",
    ),
    PurposeCategory.THIRD_PARTY_CORE: Labels(
        "Luovutus kolmannelle osapuolelle palvelun perustoimintoa varten",
        "Utlämnande till tredje part för tjänstens grundfunktion",
        "Third-party sharing, core function",
    ),
    PurposeCategory.THIRD_PARTY_OTHER: Labels(
        "Luovutus kolmannelle osapuolelle, muu tarkoitus",
        "Utlämnande till tredje part, annat ändamål",
        "Third-party sharing, other",
    ),
    PurposeCategory.LEGALLY_REQUIRED: Labels(
        "Lakisääteinen säilytys", "Lagstadgad lagring", "Legally required retention"
    ),
    PurposeCategory.REQUIRED_BY_LAW: Labels(
        "Lainvalvonnan tai viranomaisen vaatima",
        "Krävs av brottsbekämpande eller andra myndigheter",
        "Required by law enforcement or government",
    ),
    PurposeCategory.PROTECTING_HEALTH: Labels(
        "Terveyden suojaaminen", "Skydd av hälsan", "Protecting your health"
    ),
    PurposeCategory.PROTECTING_INTERESTS: Labels(
        "Palvelun tarjoajan etujen suojaaminen",
        "Skydd av tjänsteleverantörens intressen",
        "Protecting our interests",
    ),
    PurposeCategory.IMPROVE_PERFORMANCE: Labels(
        "Toiminnan parantaminen", "Förbättring av verksamheten", "Improve performance"
    ),
}


def _purpose(purpose: ServicePurpose) -> Purpose:
    return Purpose(
        description=purpose_description(purpose),
        code=purpose.code,
        category=purpose.category,
        category_labels=CATEGORY_LABELS.get(purpose.category),
        third_party_disclosure=purpose.third_party_disclosure,
    )


def service_processing_activities() -> list[ProcessingActivity]:
    # 1 services, 2 their purposes
    services = (
        Service.objects.filter(is_active=True)
        .order_by("slug")
        .prefetch_related(Prefetch("purposes", queryset=ServicePurpose.objects.order_by("code")))
    )
    return [
        ProcessingActivity(
            kind=ActivityKind.SERVICE,
            key=service.slug,
            name=service_name(service),
            description=service_description(service),
            controller=Controller(
                name=Labels(*(service.controller_name,) * 3),
                address=service.controller_address,
                email=service.controller_email,
                phone=service.controller_phone,
                contact=service.controller_contact,
            ),
            purposes=tuple(_purpose(p) for p in service.purposes.all()),
            lawful_basis=CONSENT_BASIS,
            retention=Retention(CONSENT_RECORDS_RETENTION),
            field_ids=tuple(str(field_id) for field_id in service.allowed_fields),
            privacy_policy_url=service.privacy_policy_url,
        )
        for service in services
    ]
