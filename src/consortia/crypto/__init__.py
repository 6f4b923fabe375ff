"""Signature suites, hashing, keys, addresses and encrypted key files."""
