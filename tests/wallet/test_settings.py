"""Configuration fails loudly, and the production configuration passes `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]
SIGNING_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    .decode()
)


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WALLET_", "OIDC_"))
    }
    base.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        WALLET_KEKS="1:" + "A" * 43,
        WALLET_INDEX_KEY="B" * 43,
        WALLET_SIGNING_KEY=SIGNING_KEY,
        WALLET_OIDC_CLIENT_SECRET="s",
        WALLET_CONNECTOR_CLIENT_SECRET="s",
        LIBRARY_CLIENT_KEY="k",
        LIBRARY_CLIENT_SECRET="s",
        WALLET_CITIZEN_CLIENT_IDS="oma-wallet-app",
        WALLET_ENV_FILE="/nonexistent",
        DATABASE_URL="sqlite:///:memory:",
        KEYSTORE_DATABASE_URL="sqlite:///:memory:",
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_check_deploy():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ALLOWED_HOSTS="wallet.hel.fi",
        WALLET_SSL_REDIRECT="true",
        WALLET_CITIZEN_CLIENT_IDS="oma-wallet-web,oma-wallet-app",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_the_citizen_clients():
    """Without the list no client could act for citizens; a production set-up that forgot it
    stops at start-up instead of refusing every citizen's app at run time."""
    for empty in ("", " , "):
        result = _manage("check", WALLET_CITIZEN_CLIENT_IDS=empty)
        assert result.returncode != 0
        assert "WALLET_CITIZEN_CLIENT_IDS is not set" in result.stderr + result.stdout


def test_development_without_the_citizen_clients_starts_and_warns():
    # DEBUG only: the settings load, and the check says why no bearer token acts for citizens.
    result = _manage(
        "check",
        "--deploy",
        DJANGO_DEBUG="true",
        DJANGO_ALLOWED_HOSTS="wallet.hel.fi",
        WALLET_SSL_REDIRECT="true",
        WALLET_CITIZEN_CLIENT_IDS="",
    )
    assert "wallet.W002" in result.stderr + result.stdout
    assert _manage("check", DJANGO_DEBUG="true", WALLET_CITIZEN_CLIENT_IDS="").returncode == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be a boolean"),
        ({"WALLET_KEKS": ""}, "WALLET_KEKS (or WALLET_KEKS_FILE) is not set"),
        ({"WALLET_KEKS": "1:c2hvcnQ"}, "key must be 32 bytes"),
        ({"WALLET_KEKS": "one:" + "A" * 43}, "entries must look like 'version:base64key'"),
        ({"WALLET_INDEX_KEY": "c2hvcnQ"}, "WALLET_INDEX_KEY"),
        ({"WALLET_OIDC_CLIENT_SECRET": ""}, "WALLET_OIDC_CLIENT_SECRET"),
        (
            {"OIDC_RP_CLIENT_SECRET": "not-s"},
            "WALLET_OIDC_CLIENT_SECRET and OIDC_RP_CLIENT_SECRET are both set, to different values",
        ),
        ({"OIDC_CLAIMS_SOURCE": "both"}, "OIDC_CLAIMS_SOURCE must be 'userinfo' or 'token'"),
        (
            {"DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE": "-1"},
            "DATABASE_CONN_HEALTH_CHECK_AFTER_IDLE must be 0 or more seconds",
        ),
        ({"DATABASE_PREPARED_STATEMENTS": "sometimes"}, "DATABASE_PREPARED_STATEMENTS must be"),
    ],
)
def test_bad_configuration_stops_start_up_with_a_clear_message(env, message):
    result = _manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout


def _setting(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    result = _manage("shell", "-v", "0", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_web_client_secret_also_under_mozilla_django_oidc_s_own_name(tmp_path):
    assert (
        _setting(
            "OIDC_RP_CLIENT_SECRET", WALLET_OIDC_CLIENT_SECRET="", OIDC_RP_CLIENT_SECRET="alias"
        )
        == "alias"
    )
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n")
    assert (
        _setting(
            "OIDC_RP_CLIENT_SECRET",
            WALLET_OIDC_CLIENT_SECRET="",
            OIDC_RP_CLIENT_SECRET_FILE=str(secret_file),
        )
        == "from-file"
    )
    # both names with the same value: no conflict
    assert _setting("OIDC_RP_CLIENT_SECRET", OIDC_RP_CLIENT_SECRET="s") == "s"


def test_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "kek"
    secret_file.write_text("1:" + "C" * 43 + "\n")
    result = _manage("check", WALLET_KEKS="", WALLET_KEKS_FILE=str(secret_file))
    assert result.returncode == 0, result.stderr


def test_devinit_adds_the_citizen_clients_to_an_existing_dev_env(tmp_path):
    from sandbox.demo import WALLET_CLI_CLIENT_ID

    # given a dev.env written by an older devinit, without the citizen clients
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "devinit.py"
    script.write_text((ROOT / "scripts" / "devinit.py").read_text())
    (tmp_path / "var").mkdir()
    env_file = tmp_path / "var" / "dev.env"
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True, timeout=30)
    older = [line for line in env_file.read_text().splitlines() if "CITIZEN_CLIENT" not in line]
    env_file.write_text("".join(f"{line}\n" for line in older))

    # when it runs again
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True, timeout=30)

    # then the sandbox's command-line client is listed and every key is kept as it was
    lines = env_file.read_text().splitlines()
    assert f"WALLET_CITIZEN_CLIENT_IDS={WALLET_CLI_CLIENT_ID}" in lines
    assert set(older) < set(lines)


def test_an_unknown_name_in_the_environment_stops_start_up():
    # a typo of WALLET_SECURE_COOKIES would otherwise leave the default in force, unnoticed
    result = _manage("check", WALLET_SECURE_COOKIE="false", CONNECTOR_READ_TIMEOUTS="5")
    assert result.returncode != 0
    assert (
        "Unknown setting(s) in the environment: CONNECTOR_READ_TIMEOUTS, WALLET_SECURE_COOKIE"
        in (result.stderr)
    )
    assert "Known: " in result.stderr and "WALLET_SECURE_COOKIES" in result.stderr


def test_a_secret_and_its_file_both_set_stop_start_up(tmp_path):
    key_file = tmp_path / "index-key"
    key_file.write_text("C" * 43)
    result = _manage("check", WALLET_INDEX_KEY_FILE=str(key_file))
    assert result.returncode != 0
    assert "Set WALLET_INDEX_KEY or WALLET_INDEX_KEY_FILE, not both" in result.stderr


def test_every_setting_is_read_whatever_the_configuration():
    """The refusal of unknown names relies on each setting being read unconditionally: what the
    settings module's source reads is what it asked for at start-up (DEBUG off here)."""
    from django.conf import settings as django_settings  # noqa: F401 (settings are loaded)

    from tests.wallet.test_settings_documented import SETTINGS, environment_variables_read
    from wallet import settings as wallet_settings

    in_source = environment_variables_read(SETTINGS.read_text())
    own = {n for n in in_source if n.startswith(("WALLET_", "CONNECTOR_", "OIDC_"))}
    assert own and own <= wallet_settings.env.names_read, own - wallet_settings.env.names_read
