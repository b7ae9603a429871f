"""The App's manifest (app.yml, shipped in the package as app/app.yml): its permissions and events."""
from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml


@cache
def app_manifest() -> dict[str, Any]:
    """app.yml as a mapping (the copy inside the package; a test keeps it equal to the root app.yml)."""
    data = yaml.safe_load(files("app").joinpath("app.yml").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("app.yml is not a mapping")
    return data
