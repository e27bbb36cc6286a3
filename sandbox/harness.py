"""Start a throw-away sandbox in a subprocess: for the wallet's tests, ``make run`` helpers and
benchmarks.

Each sandbox gets its own temporary database and var/ directory (signing key), so it never
touches the developer's ``var/``. Migrating a fresh SQLite database is the slow part, so it is
done once into a template file (cached in the temp dir, keyed by the migrations and package
versions) and copied for every start.

    from sandbox.harness import start_sandbox

    with start_sandbox(redirect_uris=["http://127.0.0.1:8765/oidc/callback/"]) as sandbox:
        token = sandbox.password_token("aino", scope="openid wallet")["access_token"]
        httpx.get(f"{sandbox.issuer}/userinfo/", headers={"Authorization": f"Bearer {token}"})

Bench citizens (``citizens=N, citizen_seed=S``) are described by the ``bench_*`` functions of
:mod:`sandbox.demo`. Faults (``faults="youth:500:0.2"``, see :mod:`sandbox.faults`) can be set
at start and switched later with :meth:`Sandbox.set_faults` / :meth:`Sandbox.clear_faults`; so
can the upstreams' latency (``latency_ms=50``, :meth:`Sandbox.reset_traffic`), and
:meth:`Sandbox.traffic` tells what each upstream saw (:mod:`sandbox.traffic`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import jwt

from sandbox.demo import CONNECTOR_CLIENT_ID, DEMO_PASSWORD, WALLET_CLI_CLIENT_ID
from sandbox.faults import parse_faults
from sandbox.keys import KEY_FILE_NAME, key_id, load_private_key
from sandbox.traffic import parse_latency

REPO_ROOT = Path(__file__).resolve().parent.parent
SANDBOX_DIR = REPO_ROOT / "sandbox"
_COMMAND_TIMEOUT = 120.0
SHM = "/dev/shm"  # noqa: S108 - only gunicorn's heartbeat file, which holds nothing


class SandboxStartError(RuntimeError):
    """The sandbox did not come up; the message carries the captured output."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sandbox:
    """A running sandbox. Stop it with :meth:`stop` (or use it as a context manager)."""

    base_url: str
    wallet_client_secret: str
    connector_client_secret: str
    library_client_key: str
    library_client_secret: str = field(repr=False)
    var_dir: Path = field(repr=False)
    log_path: Path = field(repr=False)
    process: subprocess.Popen[bytes] = field(repr=False)
    # What ``seed`` registered besides the defaults, and the bench citizens it generated.
    redirect_uris: tuple[str, ...] = ()
    post_logout_uris: tuple[str, ...] = ()
    citizens: int = 0
    citizen_seed: int = 1
    _workdir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def youth_extra(self) -> int:
        """Generated youth members (every bench citizen is one); the earlier name."""
        return self.citizens

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/idp"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/token/"

    @property
    def youth_base_url(self) -> str:
        """Base URL of the youth-membership simulator; its endpoint is ``/graphql/`` under it."""
        return f"{self.base_url}/youth"

    @property
    def youth_graphql_url(self) -> str:
        return f"{self.youth_base_url}/graphql/"

    @property
    def berths_base_url(self) -> str:
        """Base URL of the berth-reservations simulator; its endpoint is ``/graphql/``."""
        return f"{self.base_url}/berths"

    @property
    def berths_graphql_url(self) -> str:
        return f"{self.berths_base_url}/graphql/"

    @property
    def library_base_url(self) -> str:
        """Sierra's API root (``.../iii/sierra-api/v6``); paths below it have no trailing
        slash: ``token``, ``patrons/find``, ``patrons/{id}/checkouts``, ..."""
        return f"{self.base_url}/library/iii/sierra-api/v6"

    @property
    def library_token_url(self) -> str:
        return f"{self.library_base_url}/token"

    @property
    def faults_url(self) -> str:
        return f"{self.base_url}/_faults/"

    @property
    def traffic_url(self) -> str:
        return f"{self.base_url}/_traffic/"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Tokens, for tests and benchmarks.

    def password_token(
        self,
        username: str,
        *,
        scope: str = "openid profile email wallet",
        password: str = DEMO_PASSWORD,
        client_id: str = WALLET_CLI_CLIENT_ID,
    ) -> dict[str, Any]:
        """A citizen's token response from a sandbox-only password grant: ``wallet-cli`` by
        default, ``helsinki-profile`` for the GDPR API's scopes."""
        response = httpx.post(
            self.token_url,
            data={
                "grant_type": "password",
                "client_id": client_id,
                "username": username,
                "password": password,
                "scope": scope,
            },
            timeout=10,
        )
        response.raise_for_status()
        return dict(response.json())

    def service_token(self, *, scope: str = "youth") -> dict[str, Any]:
        """A client-credentials token response for ``oma-wallet-connector``."""
        return self.client_credentials_token(
            CONNECTOR_CLIENT_ID, self.connector_client_secret, scope=scope
        )

    def client_credentials_token(
        self, client_id: str, secret: str, *, scope: str = "wallet"
    ) -> dict[str, Any]:
        """A client-credentials token response for any confidential client (a demo service)."""
        response = httpx.post(
            self.token_url,
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(client_id, secret),
            timeout=10,
        )
        response.raise_for_status()
        return dict(response.json())

    def library_token(self) -> dict[str, Any]:
        """A token response from the library's own OAuth2 endpoint (client credentials)."""
        response = httpx.post(
            self.library_token_url,
            data={"grant_type": "client_credentials"},
            auth=(self.library_client_key, self.library_client_secret),
            timeout=10,
        )
        response.raise_for_status()
        return dict(response.json())

    # Faults, switched across the process boundary.

    def set_faults(self, spec: str) -> None:
        """Replace the active faults (``"youth:500:1.0,library:429:0.1"``; ``""`` clears) and
        restart the request counters. Raises ValueError for a spec the sandbox refuses."""
        parse_faults(spec)  # the same parser: fail here, with its message, before any request
        response = httpx.post(self.faults_url, json={"faults": spec}, timeout=10)
        if response.status_code == 400:
            raise ValueError(response.json().get("error", response.text))
        response.raise_for_status()

    def clear_faults(self) -> None:
        self.set_faults("")

    def faults(self) -> str:
        """The active fault spec, as the sandbox reports it."""
        response = httpx.get(self.faults_url, timeout=10)
        response.raise_for_status()
        return str(response.json()["faults"])

    # Latency and traffic counts of the upstreams.

    def traffic(self) -> dict[str, dict[str, int]]:
        """Per upstream system (``youth``, ``berths``, ``library``): ``requests`` and the most
        ``max_in_flight`` at once, since the start or the last :meth:`reset_traffic`."""
        response = httpx.get(self.traffic_url, timeout=10)
        response.raise_for_status()
        return dict(response.json()["systems"])

    def reset_traffic(self, *, latency_ms: int | None = None) -> None:
        """Start the counts again; ``latency_ms`` also sets the upstreams' latency."""
        body = {} if latency_ms is None else {"latency_ms": parse_latency(latency_ms)}
        httpx.post(self.traffic_url, json=body, timeout=10).raise_for_status()

    def signing_key_pem(self) -> str:
        return (self.var_dir / KEY_FILE_NAME).read_text()

    def sign_jwt(
        self, claims: Mapping[str, Any], *, headers: Mapping[str, Any] | None = None
    ) -> str:
        """Sign arbitrary claims with the provider's key (same ``kid`` as the JWKS): for tests
        that need tokens the provider would not issue (expired, wrong audience, ...)."""
        pem = self.signing_key_pem()
        all_headers = {"typ": "at+jwt", "kid": key_id(pem), **(headers or {})}
        return jwt.encode(
            dict(claims), load_private_key(pem), algorithm="RS256", headers=all_headers
        )


def _subprocess_env(
    *,
    base_url: str,
    database: Path,
    var_dir: Path,
    wallet_client_secret: str,
    connector_client_secret: str,
    library_client_key: str,
    library_client_secret: str,
    access_token_seconds: int | None,
    extra_env: Mapping[str, str],
    faults: str = "",
    latency_ms: int = 0,
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SANDBOX_", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
            "SANDBOX_BASE_URL": base_url,
            "SANDBOX_DATABASE_PATH": str(database),
            "SANDBOX_VAR_DIR": str(var_dir),
            "SANDBOX_ENV_FILE": str(var_dir / "no-such.env"),  # never read the developer's
            "SANDBOX_SECRET_KEY": secrets.token_urlsafe(32),
            "WALLET_OIDC_CLIENT_SECRET": wallet_client_secret,
            "WALLET_CONNECTOR_CLIENT_SECRET": connector_client_secret,
            "LIBRARY_CLIENT_KEY": library_client_key,
            "LIBRARY_CLIENT_SECRET": library_client_secret,
        }
    )
    if faults:
        env["SANDBOX_FAULTS"] = faults
    if latency_ms:
        env["SANDBOX_LATENCY_MS"] = str(latency_ms)
    if access_token_seconds is not None:
        env["SANDBOX_ACCESS_TOKEN_SECONDS"] = str(access_token_seconds)
    env.update(extra_env)
    return env


def _run_command(args: list[str], env: Mapping[str, str]) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "sandbox", *args],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=_COMMAND_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise SandboxStartError(
            f"`python -m sandbox {' '.join(args)}` failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )


def _template_key() -> str:
    digest = hashlib.sha256()
    for name in ("django", "django-oauth-toolkit"):
        digest.update(f"{name}={metadata.version(name)};".encode())
    for migration in sorted(SANDBOX_DIR.glob("*/migrations/*.py")):
        digest.update(str(migration.relative_to(SANDBOX_DIR)).encode())
        digest.update(migration.read_bytes())
    return digest.hexdigest()[:16]


def migrated_database_template() -> Path:
    """A migrated, empty sandbox database, made once per set of migrations and cached."""
    cache_dir = Path(tempfile.gettempdir()) / "oma-sandbox-templates"
    cache_dir.mkdir(parents=True, exist_ok=True)
    template = cache_dir / f"sandbox-{_template_key()}.sqlite3"
    if template.exists():
        return template
    with tempfile.TemporaryDirectory(dir=cache_dir) as scratch:
        scratch_dir = Path(scratch)
        database = scratch_dir / "db.sqlite3"
        env = _subprocess_env(
            base_url="http://127.0.0.1:1",
            database=database,
            var_dir=scratch_dir,
            wallet_client_secret="unused",
            connector_client_secret="unused",
            library_client_key="unused",
            library_client_secret="unused",
            access_token_seconds=None,
            extra_env={},
        )
        _run_command(["migrate", "--no-input", "-v", "0"], env)
        os.replace(database, template)  # concurrent makers write identical files
    return template


def _wait_until_up(sandbox: Sandbox, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if sandbox.process.poll() is not None:
            code = sandbox.process.returncode
            raise SandboxStartError(f"sandbox exited ({code}) before answering:\n{sandbox.log()}")
        try:
            response = httpx.get(sandbox.discovery_url, timeout=1)
            if response.status_code == 200 and response.json().get("issuer") == sandbox.issuer:
                return
            last_error = f"HTTP {response.status_code}"
        except (httpx.HTTPError, ValueError) as exc:
            last_error = repr(exc)
        time.sleep(0.05)
    raise SandboxStartError(
        f"sandbox at {sandbox.base_url} did not answer within {timeout:.0f}s ({last_error}):\n"
        f"{sandbox.log()}"
    )


def start_sandbox(
    *,
    port: int | None = None,
    wallet_client_secret: str | None = None,
    connector_client_secret: str | None = None,
    redirect_uris: Iterable[str] = (),
    post_logout_uris: Iterable[str] = (),
    citizens: int = 0,
    citizen_seed: int = 1,
    youth_extra: int | None = None,
    youth_seed: int | None = None,
    library_client_key: str | None = None,
    library_client_secret: str | None = None,
    faults: str = "",
    latency_ms: int = 0,
    access_token_seconds: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    startup_timeout: float = 30.0,
) -> Sandbox:
    """Migrate (from the cached template), seed and serve a sandbox on a loopback port.

    Secrets not given are generated; read them back from the returned :class:`Sandbox`.
    ``redirect_uris`` / ``post_logout_uris`` are registered for ``oma-wallet-web`` on top of
    the defaults (:8000). ``citizens`` bench citizens are generated from ``citizen_seed``
    (``youth_extra`` / ``youth_seed`` are their earlier names). ``faults`` is the fault spec
    active from the start (ValueError if it does not parse); ``latency_ms`` holds every upstream
    answer back that long (``SANDBOX_LATENCY_MS``). Raises :class:`SandboxStartError` with the
    server log on failure.
    """
    parse_faults(faults)
    parse_latency(latency_ms)
    if youth_extra is not None:
        citizens = youth_extra
    if youth_seed is not None:
        citizen_seed = youth_seed
    redirect_uris = tuple(redirect_uris)
    post_logout_uris = tuple(post_logout_uris)
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    workdir = tempfile.TemporaryDirectory(prefix="oma-sandbox-")
    try:
        var_dir = Path(workdir.name)
        database = var_dir / "sandbox.sqlite3"
        shutil.copyfile(migrated_database_template(), database)
        wallet_secret = wallet_client_secret or secrets.token_urlsafe(32)
        connector_secret = connector_client_secret or secrets.token_urlsafe(32)
        library_key = library_client_key or f"sandbox-{secrets.token_hex(4)}"
        library_secret = library_client_secret or secrets.token_urlsafe(32)
        env = _subprocess_env(
            base_url=base_url,
            database=database,
            var_dir=var_dir,
            wallet_client_secret=wallet_secret,
            connector_client_secret=connector_secret,
            library_client_key=library_key,
            library_client_secret=library_secret,
            access_token_seconds=access_token_seconds,
            extra_env=extra_env or {},
            faults=faults,
            latency_ms=latency_ms,
        )
        seed_args = ["seed", "--citizens", str(citizens), "--citizen-seed", str(citizen_seed)]
        for uri in redirect_uris:
            seed_args += ["--redirect-uri", uri]
        for uri in post_logout_uris:
            seed_args += ["--post-logout-uri", uri]
        _run_command(seed_args, env)

        log_path = var_dir / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
                # gunicorn, not runserver: runserver's separate header and body writes meet
                # delayed ACKs on keep-alive connections and cost ~40 ms a request. One process
                # (the fault switch and the traffic counts are process state), threads for
                # concurrent clients and for the sleeps of the latency and the timeout fault:
                # enough that a sweep's calls in flight never queue for one.
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "sandbox.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "64",
                    "--timeout",
                    "300",
                    # a client's idle connection kept longer than its pauses between calls (at
                    # gunicorn's 2 s, a reused connection the server had just closed failed)
                    "--keep-alive",
                    "30",
                    # the worker's heartbeat file, touched twice a request: in memory, not on
                    # the disk /tmp may be (there each touch cost more than a simple answer)
                    *(["--worker-tmp-dir", SHM] if Path(SHM).is_dir() else []),
                    "--access-logfile",
                    "-",
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    except BaseException:
        workdir.cleanup()
        raise
    sandbox = Sandbox(
        base_url=base_url,
        wallet_client_secret=wallet_secret,
        connector_client_secret=connector_secret,
        library_client_key=library_key,
        library_client_secret=library_secret,
        var_dir=var_dir,
        log_path=log_path,
        process=process,
        redirect_uris=redirect_uris,
        post_logout_uris=post_logout_uris,
        citizens=citizens,
        citizen_seed=citizen_seed,
        _workdir=workdir,
    )
    try:
        _wait_until_up(sandbox, startup_timeout)
    except BaseException:
        with contextlib.suppress(Exception):
            sandbox.stop()
        raise
    return sandbox
