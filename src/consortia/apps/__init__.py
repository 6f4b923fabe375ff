"""Applications built as Python contracts on the contract bridge (decisions/0011).

Each application is a package: contract sources (text, deployed at genesis by
:func:`consortia.apps.genesis.app_records`), SDK helpers that build calls and decode views.
"""
