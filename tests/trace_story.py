"""The story of issue 18 as data: ore → steel coil → parts → an assembled machine across four
firms, with its identifiers (valid GS1 check digits) and what provenance and where-used must
list. Shared by the in-process tests and the 4-validator network test."""

from __future__ import annotations

from consortia.apps.trace.identifiers import check_digit


def gtin(body13: str) -> str:
    return body13 + str(check_digit(body13))


def sscc(body17: str) -> str:
    return body17 + str(check_digit(body17))


def batch(body13: str, lot: str) -> str:
    return f"https://id.gs1.org/01/{gtin(body13)}/10/{lot}"


def serial(body13: str, number: str) -> str:
    return f"https://id.gs1.org/01/{gtin(body13)}/21/{number}"


ORE = batch("0950600013435", "ORE-2026-07")
COIL = batch("0950600013436", "COIL-88")
PART_A = serial("0950600013437", "PA-1")
PART_B = serial("0950600013437", "PA-2")
PALLET = "https://id.gs1.org/00/" + sscc("09506000100000001")
MACHINE = "88.118.8/MACH-0001"
"""The machine carries an industrial-internet identifier."""
EPC_PART_A = "urn:epc:id:sgtin:9506000.013437.PA-1"
"""PART_A's EPC URI (company prefix 9506000, indicator 0)."""

PROVENANCE_OF_MACHINE = {MACHINE, PART_A, PART_B, COIL, ORE}
WHERE_USED_OF_ORE = {ORE, COIL, PART_A, PART_B, PALLET, MACHINE}
AFFECTED_BY_COIL = [PART_A, PART_B, MACHINE]
