"""Check a live answer against the response schema ``/openapi.json`` gives its route."""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema

from consortia.api.openapi import openapi_spec


@functools.cache
def _spec() -> dict[str, Any]:
    return openapi_spec()


def route_of(path: str) -> str:
    """The document's path template that ``path`` (query dropped) matches, the most literal first."""
    bare = path.split("?", 1)[0]
    found = [t for t in _spec()["paths"] if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), bare)]
    assert found, f"{bare} matches no path of /openapi.json"
    return min(found, key=lambda t: t.count("{"))


def check_answer(path: str, body: Any, method: str = "get", status: str = "200") -> None:
    """``body`` (a ``status`` answer to ``method path``) is valid against its documented schema."""
    spec = _spec()
    response = spec["paths"][route_of(path)][method]["responses"][status]
    schema = response["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(body)
