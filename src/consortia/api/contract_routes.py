"""REST routes for deployed Python contracts (info and read-only views)."""

from __future__ import annotations

from starlette.routing import Route

from consortia.node.node import Node


def contract_routes(node: Node) -> list[Route]:
    return []
