"""Every limit of the permission layer, in one place. Changing one changes consensus
(they decide which transactions succeed and what their receipts say)."""

from __future__ import annotations

MAX_KYC_TIER = 255
"""Highest KYC tier an identity may hold (tiers index the regulator's limits)."""

MAX_ASSET_NAME = 64
"""Characters of an asset name the regulator may freeze."""

MAX_WINDOW_BLOCKS = 1024
"""Windows are kept as one bucket per block, so this bounds each tracked record exactly."""

MAX_CERT_BYTES = 8192
"""Bytes of an identity certificate (PEM) checked on chain at enrolment."""

MAX_PAYLOAD = 16 * 1024
"""Bytes of a governance proposal's payload."""

MAX_NAME = 64
"""Characters of an organisation, validator or contract name in a proposal."""

MAX_ADMINS = 16
"""Admin keys one organisation may list."""

PII_SALT_MIN = 16
"""Bytes of salt at least, in the off-chain PII commitment."""

MAX_PARAM = 2**63 - 1
"""Largest value a governance parameter may take."""

DAY_MS = 86_400_000
"""A day of block time, for daily payment limits (block timestamps, never a clock)."""

MIN_VALIDATOR_DELAY = 2
"""A validator-set change decided at height h applies from h + 2 at the earliest, so the set for
height H is fixed by state committed at height H - 2 (pipelined consensus never lacks it)."""

MIN_WALLET_TIER = 1
"""Wallet tiers run from 1 (full KYC, unlimited) ..."""

MAX_WALLET_TIER = 4
"""... to 4 (anonymous, phone number only): each tier's limits are ``perm/limits/<tier>``."""

MAX_SUPPLY = 2**64 - 1
"""Cumulative issuance (and redemption) of the chain and of each organisation, at most."""

MAX_PORT = 65_535
"""The highest TCP port a joining organisation's bundle may name (join-org proposals)."""

MAX_HOST = 253
"""The longest host name a joining organisation's bundle may name (a DNS name's limit)."""
