"""Supervisable privacy for application data and lawful erasure (issue 14, decisions/0024):
published sealing keys, the regulator's supervisor key, each organisation's confidential store,
erasure requests and erasures on the record (``contracts/privacy.py``); the node's off-chain
store of sealed content (``store.py``, ``service.py``); building the calls (``sdk.py``)."""
