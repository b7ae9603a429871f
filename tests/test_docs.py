"""The README's reference tables cannot drift from the code.

- The table of `.github/coc.yml` keys (header `| key | meaning | default |`) has one row per key of
  `app.config.DEFAULTS`, flattened to dotted names (`heat.threshold`), and no other; the schema validates
  the same keys. A default that is a value is written as that value in backticks (`true`, `7d`); a `null`
  default (the code computes it) is written in words: "none", or "none: …" naming what the code uses, which
  is checked where the code names it (the model's heat threshold, the automatic lock's threshold, the
  bundled templates and their placeholders).
- The table of environment variables (header `| variable | meaning | default |`) names exactly the variables
  `app.settings.READS` lists; each default in backticks is what `load_settings` gives when the variable is
  unset, "off" is a flag that is off, and every variable `load_settings` cannot do without says "required".
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import DEFAULTS, SCHEMA
from app.settings import READS, SettingsError, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"

CONFIG_HEADER = ("key", "meaning", "default")
ENV_HEADER = ("variable", "meaning", "default")


# --------------------------------------------------------------------------- reading the README's tables

def _cells(line: str) -> list[str]:
    """The cells of one Markdown table row; `\\|` inside a cell is a literal bar."""
    inner = line.strip()[1:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def tables(text: str) -> list[tuple[tuple[str, ...], list[list[str]]]]:
    """Every Markdown table of `text` (outside fenced code): its header and its rows."""
    found: list[tuple[tuple[str, ...], list[list[str]]]] = []
    lines = text.splitlines()
    fenced = False
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("```"):
            fenced = not fenced
        elif (not fenced and line.startswith("|") and i + 1 < len(lines)
              and re.fullmatch(r"\|(\s*:?-{3,}:?\s*\|)+", lines[i + 1].strip())):
            header = tuple(c.lower() for c in _cells(line))
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            found.append((header, rows))
            continue
        i += 1
    return found


def the_table(header: tuple[str, ...]) -> list[list[str]]:
    matches = [rows for head, rows in tables(README.read_text(encoding="utf-8")) if head == header]
    assert len(matches) == 1, f"README.md must hold exactly one table headed | {' | '.join(header)} |"
    return matches[0]


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def literal_value(cell: str) -> str | None:
    """The value of a cell that is exactly one code span (`7d`), else None (a default written in words)."""
    m = re.fullmatch(r"`([^`]+)`", cell)
    return m.group(1) if m else None


# --------------------------------------------------------------------------- configuration keys

def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_rows() -> dict[str, tuple[str, str]]:
    """README key -> (meaning, default), one key per row."""
    rows: dict[str, tuple[str, str]] = {}
    for cells in the_table(CONFIG_HEADER):
        assert len(cells) == 3, f"a configuration row has 3 cells: {cells}"
        keys = code_spans(cells[0])
        assert len(keys) == 1 and cells[0] == f"`{keys[0]}`", \
            f"one key per row of the configuration table, in backticks: {cells[0]!r}"
        assert keys[0] not in rows, f"{keys[0]} has two rows in the configuration table"
        rows[keys[0]] = (cells[1], cells[2])
    return rows


def described_null(key: str) -> str:
    """What the README must say of a key whose default is null (the code computes it)."""
    if key == "heat.threshold":
        import app.heat

        return f"the model's ({app.heat.DEFAULT_THRESHOLD:.2f})"
    if key == "heat.lock_threshold":
        from handlers.heat import DEFAULT_LOCK_THRESHOLD

        return f"{DEFAULT_LOCK_THRESHOLD:g}"
    if key.startswith("templates."):
        return "bundled"
    return ""


def test_every_configuration_key_has_one_row_and_no_row_is_unknown():
    documented = set(config_rows())
    keys = set(flatten(DEFAULTS))
    assert set(flatten(SCHEMA)) == keys, "app/config.py: DEFAULTS and SCHEMA must name the same keys"
    assert not keys - documented, f"keys of DEFAULTS without a README row: {sorted(keys - documented)}"
    assert not documented - keys, f"README rows for keys DEFAULTS does not have: {sorted(documented - keys)}"


@pytest.mark.parametrize("key", sorted(flatten(DEFAULTS)))
def test_configuration_default_matches_the_code(key):
    rows = config_rows()
    if key not in rows:
        pytest.fail(f"{key}: no row in the README's configuration table")
    default = flatten(DEFAULTS)[key]
    cell = rows[key][1]
    literal = literal_value(cell)
    if default is None:
        assert literal is None and (cell == "none" or cell.startswith("none: ")), \
            f"{key}: its default is computed by the code; write it as none, or none: and what the code uses ({cell!r})"
        expected = described_null(key)
        assert expected in cell, f"{key}: the README says {cell!r}; the code uses {expected!r}"
    else:
        assert literal is not None, f"{key}: write the default {default!r} as one value in backticks ({cell!r})"
        value = yaml.safe_load(literal)
        assert type(value) is type(default) and value == default, \
            f"{key}: the README says `{literal}`, DEFAULTS says {default!r}"


@pytest.mark.parametrize("key", sorted(k for k in flatten(DEFAULTS) if k.startswith("templates.")))
def test_template_rows_name_the_bundled_template_and_its_placeholders(key):
    from app.text import TEMPLATE_PLACEHOLDERS

    name = key.split(".", 1)[1]
    assert name in TEMPLATE_PLACEHOLDERS, f"{key}: no bundled template {name!r}"
    meaning = config_rows()[key][0]
    shown = set(re.findall(r"`\$(\w+)`", meaning))
    assert shown == set(TEMPLATE_PLACEHOLDERS[name]) - {"marker"}, \
        f"{key}: the README lists {sorted(shown)}, the template takes {sorted(TEMPLATE_PLACEHOLDERS[name])}"


# --------------------------------------------------------------------------- environment variables

ALL_VARIABLES = sorted({name for names in READS.values() for name in names})


def env_rows() -> list[tuple[list[str], str]]:
    """README rows as (variable names, default)."""
    rows = []
    for cells in the_table(ENV_HEADER):
        assert len(cells) == 3, f"an environment row has 3 cells: {cells}"
        names = code_spans(cells[0])
        assert names and all(re.fullmatch(r"[A-Z][A-Z0-9_]*", n) for n in names), \
            f"the first cell names variables in backticks: {cells[0]!r}"
        rows.append((names, cells[2]))
    return rows


def minimal_environment() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    return {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": pem, "GITHUB_WEBHOOK_SECRET": "s"}


@pytest.fixture(scope="module")
def minimal_env() -> dict[str, str]:
    return minimal_environment()


def test_the_environment_table_names_every_variable_the_settings_read():
    named = [name for names, _ in env_rows() for name in names]
    assert len(named) == len(set(named)), f"a variable has two rows: {sorted(n for n in named if named.count(n) > 1)}"
    missing = sorted(set(ALL_VARIABLES) - set(named))
    unknown = sorted(set(named) - set(ALL_VARIABLES))
    assert not missing, f"variables app/settings.py reads (READS) without a README row: {missing}"
    assert not unknown, f"README rows for variables app/settings.py does not read: {unknown}"


# The Settings attribute each variable with a plain default sets.
ATTRIBUTE = {"GITHUB_API_URL": "api_url", "DATABASE_URL": "database_url", "PORT": "port", "HOST": "host",
             "COC_WORKERS": "workers", "COC_DRY_RUN": "dry_run"}


def test_environment_defaults_are_what_the_settings_give(minimal_env):
    settings = load_settings(minimal_env, purpose="server")
    for names, cell in env_rows():
        literal = literal_value(cell)
        if literal is None and cell != "off":
            continue  # required, or a default in words: checked below
        assert len(names) == 1, f"{names}: a row with a default names one variable"
        name = names[0]
        if name not in ATTRIBUTE:
            pytest.fail(f"{name}: tests/test_docs.py does not know which setting it sets; add it to ATTRIBUTE")
        actual = getattr(settings, ATTRIBUTE[name])
        if cell == "off":
            assert actual is False, f"{name}: the README says off, the settings give {actual!r}"
        else:
            assert literal == str(actual), f"{name}: the README says `{literal}`, the settings give {actual!r}"


@pytest.mark.parametrize("name", ["GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"])
def test_variables_the_server_cannot_start_without_are_marked_required(name, minimal_env):
    assert name in minimal_env
    env = {k: v for k, v in minimal_env.items() if k != name}
    with pytest.raises(SettingsError) as raised:
        load_settings(env, purpose="server")
    assert name in str(raised.value)
    (cell,) = [cell for names, cell in env_rows() if name in names]
    assert cell.startswith("required") or cell.startswith("exactly one is required"), \
        f"{name}: the server cannot start without it; the README's default says {cell!r}"

