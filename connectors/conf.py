"""Connector settings: what a connector package declares about itself, and how the one settings
entry per source (`settings.CONNECTORS`) is read and checked.

A source is one package plus one entry in `CONNECTORS`, keyed by the source's name (like Django's
DATABASES or CACHES):

    CONNECTORS = {
        "<source>": {"PACKAGE": "connectors.<source>", "BASE_URL": "...", "CLIENT_KEY": "...", ...},
    }

The package's `__init__.py` holds its `CONNECTOR` declaration (a `ConnectorPackage`): its source
name, its Connector class (a dotted path, imported once the apps are ready) and its settings:
each with its key, type, default, whether it is a secret, and the environment variable the
wallet's settings read it from. Every source also has the settings all sources share
(`shared_settings`, below: `RETENTION_DAYS`, from `<SOURCE>_RETENTION_DAYS`, and its upstream's
budget, `MAX_IN_FLIGHT` and `MAX_CALLS_PER_SECOND`).
`wallet.settings` fills each entry from the environment with `entry_from_env`; a test (or
another deployment) may give an entry by hand, and what it leaves out takes the declared default.

This module is imported by `wallet.settings`, before the apps load: it and the packages'
`__init__.py` import no model and no Django setting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.core.exceptions import ImproperlyConfigured

PACKAGE = "PACKAGE"
REQUIRED = object()  # a default meaning "no default: the setting must be given"


@dataclass(frozen=True)
class Setting:
    """One of a connector's settings: `CONNECTORS[source][key]`."""

    key: str
    type: type = str  # str, int, float or bool
    default: Any = REQUIRED
    secret: bool = False
    env: str | None = None  # the environment variable it is read from (also as NAME_FILE if secret)
    help: str = ""
    minimum: float | None = None  # numbers: the smallest value allowed (a default of None is)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


RETENTION_DAYS = "RETENTION_DAYS"
MAX_IN_FLIGHT = "MAX_IN_FLIGHT"
MAX_CALLS_PER_SECOND = "MAX_CALLS_PER_SECOND"


def shared_settings(source: str) -> tuple[Setting, ...]:
    """The settings every source has without declaring them: how many days an ended record is
    kept (None: the source's own `SourceInfo.retention_after_end`); and its budget toward its
    upstream, per worker process (connectors.throttle): calls in flight at once, and calls per
    second. The budget's defaults are a policy toward the city's systems, about the load one
    call at a time used to put on them; raise them with the system's owners."""
    prefix = source.upper()
    return (
        Setting(
            RETENTION_DAYS,
            int,
            default=None,
            env=f"{prefix}_RETENTION_DAYS",
            help="days a record is kept after it ended upstream (default: the source's own)",
            minimum=1,
        ),
        Setting(
            MAX_IN_FLIGHT,
            int,
            default=8,
            env=f"{prefix}_MAX_IN_FLIGHT",
            help="upstream calls a worker process keeps in flight at once",
            minimum=1,
        ),
        Setting(
            MAX_CALLS_PER_SECOND,
            float,
            default=25.0,
            env=f"{prefix}_MAX_CALLS_PER_SECOND",
            help="upstream calls a worker process starts per second, on average",
            minimum=0.1,
        ),
    )


@dataclass(frozen=True)
class ConnectorPackage:
    """What a connector package says about itself before the apps load."""

    source: str
    connector: str  # dotted path of its connectors.base.Connector subclass
    settings: tuple[Setting, ...] = ()

    def __post_init__(self) -> None:
        shared = {s.key for s in shared_settings(self.source)}
        clash = sorted(shared & {s.key for s in self.settings})
        if clash:
            raise ImproperlyConfigured(
                f"connector package of {self.source!r} declares {', '.join(clash)}, "
                "which every source has already (connectors.conf.shared_settings)"
            )

    @property
    def all_settings(self) -> tuple[Setting, ...]:
        """Its own settings, then the ones every source shares."""
        return (*self.settings, *shared_settings(self.source))

    def setting(self, key: str) -> Setting | None:
        return next((s for s in self.all_settings if s.key == key), None)


def package_declaration(package: str) -> ConnectorPackage:
    """The `CONNECTOR` a connector package declares; ImproperlyConfigured if it has none."""
    try:
        module = import_module(package)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"connector package {package!r} cannot be imported: {exc}"
        ) from exc
    declaration = getattr(module, "CONNECTOR", None)
    if not isinstance(declaration, ConnectorPackage):
        raise ImproperlyConfigured(
            f"connector package {package!r} declares no CONNECTOR = ConnectorPackage(...)"
        )
    return declaration


# How wallet.settings reads one environment variable: (name, type, secret, default) -> value.
EnvReader = Callable[[str, type, bool, Any], Any]


def entry_from_env(package: str, read: EnvReader) -> dict[str, Any]:
    """A `CONNECTORS` entry for `package`, every declared setting read from its environment
    variable (a missing required one is left out: `problems` reports it)."""
    declaration = package_declaration(package)
    entry: dict[str, Any] = {PACKAGE: package}
    for setting in declaration.all_settings:
        if setting.env is None:
            continue
        default = "" if setting.required else setting.default
        value = read(setting.env, setting.type, setting.secret, default)
        if setting.required and value in ("", None):
            continue
        entry[setting.key] = value
    return entry


def _type_ok(setting: Setting, value: Any) -> bool:
    if value is None and setting.default is None:
        return True  # "not set": the default's meaning
    if setting.type is bool:
        return isinstance(value, bool)
    if setting.type is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if setting.type is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, setting.type)


def _where(setting: Setting) -> str:
    if setting.env is None:
        return ""
    also = f" or {setting.env}_FILE" if setting.secret else ""
    return f" (environment: {setting.env}{also})"


@dataclass(frozen=True)
class Problem:
    message: str
    missing_secret: bool = False  # only an error in production (see connectors.checks)


def problems(connectors: Mapping[str, Any]) -> list[Problem]:
    """Everything wrong with a `CONNECTORS` setting: a package that is not a connector, an entry
    under another source's name, unknown keys, values of the wrong type, required settings not
    given."""
    if not isinstance(connectors, Mapping):
        return [Problem("CONNECTORS must be a dict of source name to settings")]
    found: list[Problem] = []
    for source, entry in connectors.items():
        where = f"CONNECTORS[{source!r}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get(PACKAGE), str):
            found.append(Problem(f"{where} must be a dict naming its PACKAGE"))
            continue
        try:
            declaration = package_declaration(entry[PACKAGE])
        except ImproperlyConfigured as exc:
            found.append(Problem(f"{where}: {exc}"))
            continue
        if declaration.source != source:
            found.append(
                Problem(
                    f"{where}: the package {entry[PACKAGE]} is the {declaration.source!r} source"
                )
            )
        known = {s.key for s in declaration.all_settings}
        for key in sorted(set(entry) - known - {PACKAGE}):
            found.append(
                Problem(f"{where}: unknown setting {key!r}; known: {', '.join(sorted(known))}")
            )
        for setting in declaration.all_settings:
            value = entry.get(setting.key, setting.default)
            if value is REQUIRED or (setting.secret and setting.required and value == ""):
                found.append(
                    Problem(
                        f"{where}[{setting.key!r}] is not set{_where(setting)}",
                        missing_secret=setting.secret,
                    )
                )
            elif not _type_ok(setting, value):
                found.append(
                    Problem(
                        f"{where}[{setting.key!r}] must be {setting.type.__name__}, "
                        f"got {type(value).__name__}"
                    )
                )
            elif setting.minimum is not None and value is not None and value < setting.minimum:
                what = f" ({setting.help})" if setting.help else ""
                found.append(
                    Problem(
                        f"{where}[{setting.key!r}] must be at least {setting.minimum}{what}, "
                        f"got {value!r}{_where(setting)}"
                    )
                )
    return found


def resolved(source: str, connectors: Mapping[str, Any]) -> dict[str, Any]:
    """One source's settings: its entry over the package's declared defaults."""
    entry = connectors[source]
    declaration = package_declaration(entry[PACKAGE])
    # a required setting left out (reported by `problems`) reads as blank
    values = {s.key: "" if s.required else s.default for s in declaration.all_settings}
    values.update({k: v for k, v in entry.items() if k != PACKAGE})
    return values
