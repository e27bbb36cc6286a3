"""Every environment variable wallet/settings.py reads has a row in README's settings table.

The variables are found in the settings module's source: the first string arguments of
`env.<cast>("NAME", ...)`, of the module's own helpers (`_secret("NAME")`, `_strict_bool(...)`,
...), and of `os.environ` / `os.getenv`. A `NAME_FILE` variant of a secret is covered by README's
sentence about `NAME_FILE`. README rows name each variable in backticks in their first column,
one by one (no `*` patterns).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "wallet" / "settings.py"
README = ROOT / "README.md"
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _string_args(call: ast.Call) -> list[str]:
    return [
        arg.value
        for arg in call.args
        if isinstance(arg, ast.Constant)
        and isinstance(arg.value, str)
        and ENV_NAME.match(arg.value)
    ]


def _is_os_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def environment_variables_read(source: str) -> set[str]:
    tree = ast.parse(source)
    helpers = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            reads_env = (
                # env.str(...), env.int(...), env.db_url(...), environ.Env.read_env is not a name
                (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name))
                and func.value.id == "env"
                and func.attr != "read_env"
            )
            reads_env |= isinstance(func, ast.Name) and func.id in helpers
            reads_env |= isinstance(func, ast.Attribute) and func.attr == "getenv"
            reads_env |= (
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and _is_os_environ(func.value)
            )
            if reads_env:
                names.update(_string_args(node))
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
    return names


def readme_settings_table(text: str) -> set[str]:
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = section.split("| variable | what |", 1)[1].splitlines()[2:]  # after the header rule
    names: set[str] = set()
    for row in rows:
        if not row.startswith("|"):
            break
        first_column = row.split("|")[1]
        names.update(re.findall(r"`([^`]+)`", first_column))
    return names


def test_the_parser_finds_each_form_settings_use():
    found = environment_variables_read(SETTINGS.read_text())
    # one of each form in wallet/settings.py today: env.str, env.db_url, env.list, env.int,
    # env.float, _secret, _optional_secret, _strict_bool, the two-name secret
    assert {
        "OIDC_ISSUER",
        "DATABASE_URL",
        "DJANGO_ALLOWED_HOSTS",
        "SYNC_CHUNK_SIZE",
        "OIDC_TIMEOUT",
        "DJANGO_SECRET_KEY",
        "WALLET_SIGNING_KEY",
        "DJANGO_DEBUG",
        "WALLET_OIDC_CLIENT_SECRET",
        "OIDC_RP_CLIENT_SECRET",
    } <= found
    assert environment_variables_read(
        'import os\nx = os.environ["A_B"]\ny = os.getenv("C")\nz = os.environ.get("D", "")\n'
    ) == {"A_B", "C", "D"}


def test_readme_lists_every_setting_the_wallet_reads():
    documented = readme_settings_table(README.read_text())
    assert "DATABASE_URL" in documented  # the table was found
    missing = sorted(environment_variables_read(SETTINGS.read_text()) - documented)
    assert not missing, (
        "wallet/settings.py reads these environment variables, but README's settings table "
        f"(Configuration, `| variable | what |`) has no row naming them: {', '.join(missing)}"
    )
