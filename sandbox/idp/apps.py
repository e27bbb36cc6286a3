from django.apps import AppConfig


class IdpConfig(AppConfig):
    """The city's OpenID provider (django-oauth-toolkit with RFC 9068 access tokens)."""

    name = "sandbox.idp"
    label = "sandbox_idp"
    verbose_name = "Sandbox identity provider"
