"""REST routes of the permission layer: organisations, identities, proposals, alerts, audit."""

from __future__ import annotations

from starlette.routing import Route

from consortia.node.node import Node


def perm_routes(node: Node) -> list[Route]:
    return []
