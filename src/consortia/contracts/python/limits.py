"""Every limit of the Python contract runtime, in one place. Changing one changes consensus."""

from __future__ import annotations

MAX_SOURCE_BYTES = 64 * 1024
MAX_AST_NODES = 20_000
MAX_AST_DEPTH = 60

DEFAULT_STEP_BUDGET = 1_000_000
MODULE_LOAD_STEPS = 100_000
MAX_CALL_DEPTH = 64
MAX_CONTRACT_CALL_DEPTH = 8

MAX_INT_BITS = 4096
MAX_INT_TEXT = 1300
"""Characters of an integer's text form accepted by ``int(text)`` (about 4096 bits)."""
MAX_SEQUENCE_LEN = 100_000
"""Items of a list/tuple/dict, characters of a str, bytes of a bytes: any single value."""

MAX_STORED_VALUE_BYTES = 64 * 1024
MAX_STORAGE_KEY_BYTES = 1024
MAX_EVENT_BYTES = 16 * 1024
MAX_PLAIN_DEPTH = 16
MAX_NAME_LEN = 64

# step costs
DEPLOY_STEPS_BASE = 1_000
DEPLOY_BYTES_PER_STEP = 4
COST_STATEMENT = 1
COST_STORAGE_READ = 20
COST_STORAGE_WRITE = 50
COST_PER_32_BYTES = 1
COST_EVENT = 30
COST_CONTRACT_CALL = 100
COST_LINEAR_DIVISOR = 64
"""Operations linear in a value's size cost 1 step per this many items or bytes."""

# the contract bridge (decisions/0011)
COST_BALANCE_READ = 20
COST_PAY = 500
COST_IDENTITY_READ = 100
COST_VERIFY_SIGNATURE = 3_000
COST_ADDRESS_OF_KEY = 50
COST_SCHEDULE = 200
COST_ALERT = 300
MAX_ALERT_DETAIL = 500
"""Characters of an alert's detail text a contract may raise (``alert_regulator``)."""

MAX_SCHEDULE_AHEAD = 1_000_000
"""Blocks ahead a contract may schedule a call (about 11.5 days at 1 s blocks)."""
MAX_SCHEDULED_PER_HEIGHT = 1_000
"""Calls one height may hold; a contract scheduling more at that height is refused."""
MAX_SCHEDULED_PER_BLOCK = 100
"""Scheduled calls one block runs; the rest run in the next blocks, in order."""
MAX_SCHEDULE_SCAN = 1_000
"""Empty heights one block's scheduler steps over at most (a cursor catches up gradually)."""
SCHEDULED_STEP_BUDGET = 1_000_000
"""Steps of one scheduled call."""
MAX_SHAPE_DEPTH = 16
"""How deeply a declared result type may nest (contracts/python/shapes)."""
