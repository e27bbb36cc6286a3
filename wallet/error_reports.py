"""What an error report may show: no key, secret, token, password or credentials.

Django's technical 500 page (under DEBUG, which `make run` uses) and its error e-mails show the
settings, `request.META` (under runserver the whole process environment), the POST parameters and
every frame's local variables. Its own filter hides a few names (API, TOKEN, KEY, SECRET, ...);
these classes hide more, in two ways:

- by name: a setting, META entry, cookie, POST parameter, GET parameter or local variable (or a
  dict key inside one) whose name looks like a secret shows only stars;
- by value: wherever a configured secret's value (KEKs and their key bytes, the index key, the
  signing key, client secrets, database passwords, secrets in the environment) or the password of
  a URL with credentials (`scheme://user:password@host`) appears, in any string or any object's
  repr, it is replaced, whatever the name it sits under. That covers the exception's message too.

Settings: `DEFAULT_EXCEPTION_REPORTER_FILTER` and `DEFAULT_EXCEPTION_REPORTER` name the two classes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
from collections.abc import ItemsView, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.template.defaultfilters import pprint
from django.utils.datastructures import MultiValueDict
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from wallet import crypto

SUBSTITUTE = SafeExceptionReporterFilter.cleansed_substitute

# Names that hide their value: a superset of Django's own (API|AUTH|TOKEN|KEY|SECRET|PASS|
# SIGNATURE|HTTP_COOKIE). PIN only as a word of its own, so "shipping" stays readable.
HIDDEN_NAMES = re.compile(
    r"API|AUTH|TOKEN|KEY|KEK|SECRET|PASS|PWD|SIGNATURE|CREDENTIAL|COOKIE|SESSION|PRIVATE|DSN"
    r"|SALT|JWT|(?<![a-z])PIN(?![a-z])",
    re.IGNORECASE,
)
# Environment variables whose values count as secrets wherever they appear (PGPASSWORD, the
# sandbox's SANDBOX_SECRET_KEY, ...): names that end in a secret's word. Narrower than
# HIDDEN_NAMES, whose matches also name harmless values (CONNECTOR_TOKEN_ENDPOINT, SSH_AUTH_SOCK)
# that would blank out useful text all over the page.
SECRET_ENVIRONMENT_NAMES = re.compile(
    r"(?:KEY|KEKS?|SECRET|TOKEN|PASS|PASSWORD|PASSWD|CREDENTIALS?|DSN)S?$", re.IGNORECASE
)
# The settings whose values are secrets; WALLET_KEKS and the keys are also matched as key bytes.
SECRET_SETTINGS = (
    "SECRET_KEY",
    "OIDC_RP_CLIENT_SECRET",
    "CONNECTOR_CLIENT_SECRET",
    "WALLET_SIGNING_KEY",
)
# ... and each source's own secrets: in settings.CONNECTORS, under names like CLIENT_SECRET or
# CLIENT_KEY (SECRET_ENVIRONMENT_NAMES).
# Shorter values are not matched by value (they are still hidden by name): redacting every "test"
# or "s" on the page would make it useless, and an empty value would match everywhere.
MIN_SECRET_LENGTH = 6

# The password of `scheme://user:password@host`: greedy up to the last "@" of the word, so a
# password with an unencoded "@" or "/" is hidden whole.
_URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^\s/?#@:'\"]*:)(?P<password>[^\s'\"]*)@",
    re.IGNORECASE,
)
# Containers deeper or longer than this are scrubbed as the text the page prints for them.
_NESTING_LIMIT = 20
_ITEMS_LIMIT = 200


def _key_forms(raw: bytes) -> Iterator[str]:
    """The ways a key's bytes show up in text: base64 in both alphabets, hex, a bytes repr."""
    for encoded in (base64.urlsafe_b64encode(raw), base64.b64encode(raw)):
        yield encoded.decode()
        yield encoded.decode().rstrip("=")
    yield raw.hex()
    yield repr(raw)[2:-1]


def _decoded_key(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _text_forms(value: str) -> Iterator[str]:
    """A secret as text, as it shows inside a repr (escaped newlines), and, for a PEM key, each
    line of its body (a truncated or re-wrapped key still shows no part of it)."""
    value = value.strip()
    yield value
    yield repr(value)[1:-1]
    if value.startswith("-----BEGIN"):
        yield from (line for line in value.splitlines() if not line.startswith("-----"))


def _kek_forms(spec: str) -> Iterator[str]:
    yield from _text_forms(spec)
    for entry in spec.split(","):
        _, _, key_text = entry.strip().partition(":")
        yield from _text_forms(key_text)
        raw = _decoded_key(key_text.strip())
        if raw:
            yield from _key_forms(raw)


def _configured_kek_forms() -> Iterator[str]:
    """KEKs read from WALLET_KEK_DIR are in no setting: ask the settings provider for its keys.
    Any other provider (a KMS) holds its keys itself; its failure never stops a report."""
    try:
        provider = crypto.kek_provider()
        if isinstance(provider, crypto.SettingsKekProvider):
            for version in provider.versions():
                yield from _key_forms(provider.get(version).key)
    except Exception:  # a broken key configuration is not this report's error
        return


def _url_passwords(value: str) -> Iterator[str]:
    for match in _URL_CREDENTIALS.finditer(value):
        yield match["password"]


def _secret_values() -> tuple[str, ...]:
    """Every configured secret's value, in the forms it may show in (read anew for each report:
    settings change in tests, and a report is rare)."""
    values: list[str] = []
    values.extend(_kek_forms(str(getattr(settings, "WALLET_KEKS", "") or "")))
    values.extend(_configured_kek_forms())
    index_key = str(getattr(settings, "WALLET_INDEX_KEY", "") or "")
    values.extend(_text_forms(index_key))
    if raw_index_key := _decoded_key(index_key.strip()):
        values.extend(_key_forms(raw_index_key))
    for name in SECRET_SETTINGS:
        values.extend(_text_forms(str(getattr(settings, name, "") or "")))
    for entry in (getattr(settings, "CONNECTORS", None) or {}).values():
        for name, value in entry.items() if isinstance(entry, dict) else ():
            if isinstance(value, str) and SECRET_ENVIRONMENT_NAMES.search(name):
                values.extend(_text_forms(value))
    for fallback in getattr(settings, "SECRET_KEY_FALLBACKS", []):
        values.extend(_text_forms(str(fallback)))
    for database in getattr(settings, "DATABASES", {}).values():
        values.extend(_text_forms(str(database.get("PASSWORD") or "")))
    for name in dir(settings):
        value = getattr(settings, name, None) if name.isupper() else None
        if isinstance(value, str):  # CELERY_BROKER_URL and the like
            values.extend(_url_passwords(value))
    for name, value in os.environ.items():
        if "://" in value:  # DATABASE_URL and the like: the URL itself is no secret
            values.extend(_url_passwords(value))
        elif SECRET_ENVIRONMENT_NAMES.search(name):
            values.extend(_text_forms(value))
    return tuple(sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True))


@functools.lru_cache(maxsize=8)
def _secret_pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(map(re.escape, values))) if values else None


class _Shown:
    """A value as the report shows it (its repr, or str), with secrets already taken out."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__

    def __bool__(self) -> bool:
        return True


class Scrubber:
    """Takes secrets out of a value: the values under hidden names in dicts, then secret values
    from strings and from the reprs of anything else."""

    def __init__(self, hidden_names: re.Pattern[str] = HIDDEN_NAMES) -> None:
        self.hidden_names = hidden_names
        self.pattern = _secret_pattern(_secret_values())

    def hidden(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.hidden_names.search(name))

    def text(self, value: str) -> str:
        value = _URL_CREDENTIALS.sub(rf"\g<head>{SUBSTITUTE}@", value)
        return self.pattern.sub(SUBSTITUTE, value) if self.pattern else value

    def value(self, value: Any, depth: int = 0, within: frozenset[int] = frozenset()) -> Any:
        """The value with every string in it scrubbed; containers keep their shape (a dict
        entry under a hidden name shows stars), any other object whose repr would show a
        secret becomes that repr, scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if id(value) in within:  # a container inside itself
            return _Shown(f"<Recursion on {type(value).__name__} with id={id(value)}>")
        if depth < _NESTING_LIMIT and _small(value):
            inner = functools.partial(self.value, depth=depth + 1, within=within | {id(value)})
            if isinstance(value, dict):
                items = value.lists() if isinstance(value, MultiValueDict) else value.items()
                return {inner(k): SUBSTITUTE if self.hidden(k) else inner(v) for k, v in items}
            if isinstance(value, list):
                return [inner(v) for v in value]
            if isinstance(value, tuple) and not hasattr(value, "_fields"):  # not a namedtuple
                return tuple(inner(v) for v in value)
        shown = pprint(value)  # what the page would print
        scrubbed = self.text(shown)
        return value if scrubbed == shown else _Shown(scrubbed)

    def mapping(self, values: dict[str, Any]) -> dict[str, Any]:
        """Settings, META, cookies or a frame's variables: each entry hidden by its name or
        scrubbed, however many there are."""
        return {
            name: SUBSTITUTE if self.hidden(name) else self.value(value)
            for name, value in values.items()
        }


def _small(value: Any) -> bool:
    try:
        return len(value) <= _ITEMS_LIMIT
    except Exception:  # no len(), or one that fails: not a container to walk
        return False


class SecretsHiddenFilter(SafeExceptionReporterFilter):
    """Hides secrets by name and by value in settings, META, cookies, POST and frame variables,
    with DEBUG on or off (Django's sensitive_variables / sensitive_post_parameters still apply)."""

    hidden_settings = HIDDEN_NAMES

    def is_active(self, request: HttpRequest | None) -> bool:
        # Django honours @sensitive_variables and @sensitive_post_parameters only without
        # DEBUG; the DEBUG page is the one `make run` shows, so honour them always.
        return True

    def get_safe_settings(self) -> dict[str, Any]:
        return Scrubber(self.hidden_settings).mapping(super().get_safe_settings())

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        return Scrubber(self.hidden_settings).mapping(super().get_safe_request_meta(request))

    def get_safe_cookies(self, request: HttpRequest) -> dict[str, Any]:
        return Scrubber(self.hidden_settings).mapping(super().get_safe_cookies(request))

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, Any]:
        return self.cleansed_parameters(super().get_post_parameters(request))

    def cleansed_parameters(self, parameters: Any) -> dict[str, Any]:
        """POST or GET parameters, with every value of a hidden name starred and the others
        scrubbed; a QueryDict stays one, so the page shows the last value as usual."""
        if not parameters:
            return {}
        scrubber = Scrubber(self.hidden_settings)
        cleansed = QueryDict(mutable=True)
        if isinstance(parameters, MultiValueDict):
            lists = list(parameters.lists())
        else:
            lists = [(name, [value]) for name, value in parameters.items()]
        for name, values in lists:
            hidden = scrubber.hidden(name)
            cleansed.setlist(
                name, [SUBSTITUTE if hidden else scrubber.value(value) for value in values]
            )
        return cleansed

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> ItemsView[str, Any]:
        variables = dict(super().get_traceback_frame_variables(request, tb_frame))
        return Scrubber(self.hidden_settings).mapping(variables).items()


class SecretsHiddenReporter(ExceptionReporter):
    """The filter covers what Django asks it for; this scrubs the rest of the page that comes
    from the server: the exception's message and notes, chained exceptions, and the GET
    parameters and URL as the page repeats them."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        scrubber = Scrubber()
        for key in ("exception_value", "exception_notes", "request_insecure_uri", "unicode_hint"):
            if isinstance(data.get(key), str):
                data[key] = scrubber.text(data[key])
        if "request_GET_items" in data and self.request is not None:
            cleanse = getattr(self.filter, "cleansed_parameters", None)
            if cleanse is not None:
                data["request_GET_items"] = list(cleanse(self.request.GET).items())
        for frame in data.get("frames", []):
            if frame.get("exc_cause") is not None:
                frame["exc_cause"] = _Shown(scrubber.text(str(frame["exc_cause"])))
        return data
