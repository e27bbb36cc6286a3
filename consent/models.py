"""Services, their consent requests, the consents citizens give, and each consent's history.

A consent is immutable once given; what happens to it later (withdrawal, expiry) is a chain of
`ConsentStatus` records, each naming the previous one. What a consent covers (fields, purpose)
and its signed receipt are sealed under the citizen's data key, like every personal value.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils import timezone

from wallet import sealed
from wallet.models import Citizen


def _request_id() -> str:
    return secrets.token_urlsafe(32)


class Service(models.Model):
    """A city or partner application that may ask citizens for consent and read what they grant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(unique=True, help_text="Stable short name, e.g. `demo-service`.")
    name_fi = models.CharField(max_length=200)
    name_sv = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    description_fi = models.TextField(blank=True)
    description_sv = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    privacy_policy_url = models.URLField()
    # The controller of the data once the service has it: named in every consent receipt.
    controller_name = models.CharField(max_length=200)
    controller_address = models.CharField(max_length=300)
    controller_email = models.EmailField()
    controller_phone = models.CharField(max_length=50, blank=True)
    controller_contact = models.CharField(
        max_length=200, blank=True, help_text="Contact person or team for privacy questions."
    )
    allowed_fields = models.JSONField(
        default=list, blank=True, help_text="Catalogue field ids the service may ask for."
    )
    redirect_uris = models.TextField(
        blank=True,
        help_text="Where the citizen's browser may return after deciding; one URL a line.",
    )
    is_active = models.BooleanField(
        default=True, help_text="A suspended service can neither ask for consent nor read."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name_en

    def redirect_uri_list(self) -> list[str]:
        return [line.strip() for line in self.redirect_uris.splitlines() if line.strip()]


class ServiceClient(models.Model):
    """An OIDC client id the service's tokens carry (`client_id` / `azp`)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="clients")
    client_id = models.CharField(max_length=255, unique=True)

    def __str__(self) -> str:
        return self.client_id


class PurposeCategory(models.TextChoices):
    """Purpose categories of the Kantara Consent Receipt specification v1.1 (appendix)."""

    CORE_FUNCTION = "Core Function", "Core function"
    CONTRACTED_SERVICE = "Contracted Service", "Contracted service"
    DELIVERY = "Delivery", "Delivery"
    CONTACT_REQUESTED = "Contact Requested", "Contact requested"
    PERSONALIZED_EXPERIENCE = "Personalized Experience", "Personalized experience"
    MARKETING = "Marketing", "Marketing"
    MARKETING_THIRD_PARTIES = "Marketing Third Parties", "Marketing by third parties"
    SHARING_FOR_DELIVERY = "Sharing for Delivery", "Sharing for delivery"
    SHARING_FOR_MARKETING = "Sharing for Marketing", "Sharing for marketing"
    THIRD_PARTY_CORE = "3rd Party Sharing for Core Function", "Third-party sharing, core function"
    THIRD_PARTY_OTHER = "3rd Party Sharing for ...", "Third-party sharing, other"
    LEGALLY_REQUIRED = "Legally Required Data Retention", "Legally required retention"
    REQUIRED_BY_LAW = (
        "Required by Law Enforcement or Government",
        "Required by law enforcement or government",
    )
    PROTECTING_HEALTH = "Protecting Your Health", "Protecting your health"
    PROTECTING_INTERESTS = "Protecting Our Interests", "Protecting our interests"
    IMPROVE_PERFORMANCE = "Improve Performance", "Improve performance"


class ServicePurpose(models.Model):
    """A purpose the service may state when asking for consent."""

    # purpose_unique_code (service, code) leads with the service: no index of its own
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="purposes", db_index=False
    )
    code = models.SlugField(help_text="What the service passes as `purpose`.")
    description_fi = models.TextField()
    description_sv = models.TextField()
    description_en = models.TextField()
    category = models.CharField(
        max_length=64, choices=PurposeCategory.choices, default=PurposeCategory.CORE_FUNCTION
    )
    third_party_disclosure = models.BooleanField(
        default=False, help_text="The service passes the data on to third parties."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="purpose_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}: {self.code}"


class ServiceSubject(models.Model):
    """The citizen as one service knows them: a random pairwise id, different for each service,
    so two services cannot correlate a citizen through the wallet."""

    # subject_unique_pair (service, citizen) leads with the service: no index of its own
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="subjects", db_index=False
    )
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="service_subjects")
    pairwise_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "citizen"], name="subject_unique_pair")
        ]

    def __str__(self) -> str:
        return f"Subject {self.pairwise_id} of {self.service_id}"


class RequestState(models.TextChoices):
    """W3C DPV consent states, as far as a request goes."""

    REQUESTED = "requested", "Requested"
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    EXPIRED = "expired", "Expired before a decision"
    WITHDRAWN = "withdrawn", "Withdrawn before a decision (the citizen erased their data)"


class ConsentRequest(models.Model):
    """A service's ask: these fields, for this purpose, until then.

    The id is unguessable: it is the capability the citizen's browser carries to the approval
    page. The requested field ids are the service's ask, not the citizen's data; they are cleared
    when the citizen decides (a given consent keeps its own sealed copy). A hint is kept only as a
    blind index of (issuer, sub).

    When the citizen erases their data, their requests stay for the services that made them, with
    nothing that points to the citizen (`citizen`, the hint cleared; `citizen_erased_at` set): one
    still waiting is withdrawn, a decided one keeps its state, and its consent's residue
    (`ErasedConsent`) answers what became of the consent.
    """

    id = models.CharField(primary_key=True, max_length=64, default=_request_id, editable=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="consent_requests")
    purpose = models.ForeignKey(ServicePurpose, on_delete=models.PROTECT, related_name="+")
    fields = models.JSONField(default=list, blank=True)
    consent_expires_at = models.DateTimeField(null=True, blank=True)
    redirect_uri = models.URLField(max_length=2000)
    citizen_hint_index = models.CharField(max_length=64, blank=True, db_index=True)
    citizen = models.ForeignKey(  # request_citizen_state (citizen, state) leads with it
        Citizen,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="consent_requests",
        db_index=False,
    )
    state = models.CharField(
        max_length=16, choices=RequestState.choices, default=RequestState.REQUESTED
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="The citizen must decide before this.")
    decided_at = models.DateTimeField(null=True, blank=True)
    citizen_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["citizen", "state"], name="request_citizen_state"),
        ]

    def __str__(self) -> str:
        return f"Consent request to {self.service_id} ({self.state})"


class Consent(models.Model):
    """A citizen's grant to one service. Never changed after it is given; see ConsentStatus."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="consents")
    # consent_service_subject (service, subject) leads with the service: no index of its own
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="consents", db_index=False
    )
    subject = models.ForeignKey(ServiceSubject, on_delete=models.CASCADE, related_name="consents")
    request = models.OneToOneField(
        ConsentRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent"
    )
    given_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    receipt_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    # Sealed JSON: {"fields": [...], "purpose": {...}, "loa": "..."}
    contents = models.BinaryField()
    # Sealed compact JWS of the Kantara consent receipt.
    receipt = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["service", "subject"], name="consent_service_subject")]

    def __str__(self) -> str:
        return f"Consent {self.id}"


class ConsentState(models.TextChoices):
    """W3C DPV states of a consent once given; withdrawn and expired are final."""

    GIVEN = "given", "Given"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


# The state of a consent none of whose status records is left (W3C DPV: consent unknown). It is
# never recorded, only derived, and like every state but `given` it allows no processing.
CONSENT_STATE_UNKNOWN = "unknown"


class ConsentStatus(models.Model):
    """One link in a consent's history. `digest` is a keyed HMAC over this record and the
    previous record's digest, so the history can be verified end to end."""

    class Actor(models.TextChoices):
        CITIZEN = "citizen", "The citizen"
        SYSTEM = "system", "The wallet"

    id = models.BigAutoField(primary_key=True)
    # consent_status_unique_seq (consent, seq) leads with the consent: no index of its own
    consent = models.ForeignKey(
        Consent, on_delete=models.CASCADE, related_name="statuses", db_index=False
    )
    seq = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=ConsentState.choices)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="next"
    )
    actor = models.CharField(max_length=16, choices=Actor.choices)
    recorded_at = models.DateTimeField()
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consent", "seq"], name="consent_status_unique_seq")
        ]
        ordering = ["consent", "seq"]

    def __str__(self) -> str:
        return f"{self.state} ({self.seq}) of consent {self.consent_id}"


class ErasedConsent(models.Model):
    """What a service may still learn of a consent whose citizen erased their data: that it
    ended, how and when. No personal data: the consent's and the request's ids, the service, the
    final state, times, and a blind index of the pairwise id (so `citizenData` with that id can
    answer "withdrawn" rather than "not found")."""

    consent_id = models.UUIDField(primary_key=True)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    request = models.OneToOneField(
        ConsentRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="erased_consent",
    )
    pairwise_index = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=16)  # a ConsentState, or CONSENT_STATE_UNKNOWN
    ended_at = models.DateTimeField()
    erased_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Erased consent {self.consent_id} ({self.state})"


# The sealed columns (wallet.sealed): every read and write of them names one of these.
CONSENT_CONTENTS = sealed.field(Consent, "contents")
CONSENT_RECEIPT = sealed.field(Consent, "receipt")
