"""Every string a person sees is in Finnish, Swedish and English: a missing translation fails.

The strings are found the way `makemessages` finds them, without needing GNU gettext: templates
through Django's own `templatize`, Python through its syntax tree (calls of gettext and friends).
Each must have a non-empty, non-fuzzy translation in its app's `locale/{fi,sv}` catalogue. The
field catalogue's labels, shown on the pages too, must be there in all three languages.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.utils.translation.template import templatize

from wallet import catalogue

ROOT = Path(__file__).resolve().parent.parent
APPS = ("wallet", "consent", "connectors")
LANGUAGES = ("fi", "sv")
GETTEXT_CALLS = {
    "_": 0,
    "gettext": 0,
    "gettext_lazy": 0,
    "ngettext": 0,
    "ngettext_lazy": 0,
    "pgettext": 1,
    "pgettext_lazy": 1,
    "npgettext": 1,
    "npgettext_lazy": 1,
}
# templatize writes each {% translate %} / {% blocktranslate %} as a gettext call
QUOTED = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
TEMPLATIZED = re.compile(
    rf"\b(?P<call>gettext|pgettext|ngettext|npgettext|_)\("  # `_("...")` from a tag's argument
    rf"(?P<first>{QUOTED})(?:\s*,\s*(?P<second>{QUOTED}))?"
)


def _from_python(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        position = GETTEXT_CALLS.get(name or "")
        if position is None or len(node.args) <= position:
            continue
        argument = node.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.add(argument.value)
    return found


def _from_template(path: Path) -> set[str]:
    source = templatize(path.read_text(), origin=str(path))
    found = set()
    for match in TEMPLATIZED.finditer(source):
        # pgettext(context, message); gettext(message); ngettext(singular, plural, n)
        message = match["second"] if match["call"].startswith(("p", "np")) else match["first"]
        found.add(ast.literal_eval(message))
    return found


def _app_strings(app: str) -> dict[str, set[Path]]:
    strings: dict[str, set[Path]] = {}
    for path in sorted((ROOT / app).rglob("*")):
        if "migrations" in path.parts or "locale" in path.parts:
            continue
        if path.suffix == ".py":
            found = _from_python(path)
        elif path.suffix in (".html", ".txt") and "templates" in path.parts:
            found = _from_template(path)
        else:
            continue
        for text in found:
            strings.setdefault(text, set()).add(path.relative_to(ROOT))
    return strings


def test_the_extraction_sees_templates_and_python():
    base = _from_template(ROOT / "wallet/templates/wallet/base.html")
    assert "Skip to content" in base and "Sign out" in base
    assert "My data" in _from_python(ROOT / "wallet/apps.py")
    # a translated argument of a tag, as {% include ... with title=_("...") %}
    assert "Check these fields" in _from_template(ROOT / "wallet/templates/wallet/profile.html")


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated(app, language):
    strings = _app_strings(app)
    path = ROOT / app / "locale" / language / "LC_MESSAGES" / "django.po"
    if not strings:
        return
    assert path.exists(), f"{app} has strings to translate but no {language} catalogue"
    translated = {
        entry.msgid
        for entry in polib.pofile(str(path))
        if not entry.obsolete
        and "fuzzy" not in entry.flags
        and (entry.msgstr or any(entry.msgstr_plural.values()))
    }
    missing = {
        text: sorted(map(str, paths)) for text, paths in strings.items() if text not in translated
    }
    assert missing == {}, f"untranslated in {path.relative_to(ROOT)} (run `make messages`)"


def test_every_catalogue_label_is_in_three_languages():
    empty = [
        f"{kind.id}.{field.key}" if field else kind.id
        for kind in catalogue.kinds()
        for field, labels in [(None, kind.labels), *((f, f.labels) for f in kind.fields)]
        if not (labels.fi.strip() and labels.sv.strip() and labels.en.strip())
    ]
    assert empty == []


def test_every_source_says_why_it_holds_data_in_three_languages_and_names_its_choices():
    from connectors import base

    missing = []
    for connector in base.connectors():
        info = connector.info
        for name in ("controller", "lawful_basis", "purpose", "retention", "system"):
            labels = getattr(info, name)
            if not (labels.fi.strip() and labels.sv.strip() and labels.en.strip()):
                missing.append(f"{connector.source}.info.{name}")
        for kind in connector.kinds:
            for field in kind.fields:
                if field.choices and len(field.choice_labels) != len(field.choices):
                    missing.append(f"{kind.id}.{field.key}: a label for each choice")
    assert missing == []
