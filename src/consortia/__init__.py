"""Consortia: a permissioned BFT blockchain platform for regulated industry."""

__version__ = "0.1.0"
