"""The native currency written against the contract API: the reference for its semantics.

The chain runs ``contracts/native_currency.py`` on its hot path; this contract states the same
rules in the language contract authors use, and ``tests/test_currency_semantics.py`` runs one
test suite (including a randomised differential test) against both, so the native fast path is
only allowed as long as it behaves exactly like this.

This file is contract source (deployed as text), not a module of the consortia package.
"""

from consortia_contract import Contract, Map, public, require, view

MAX_AMOUNT = 18446744073709551615


class Currency(Contract):
    balances = Map(bytes, int)

    def init(self, holders: list, amounts: list) -> None:
        require(len(holders) == len(amounts), "one amount per holder")
        for i in range(len(holders)):
            require(len(holders[i]) == 20, "holders are 20-byte addresses")
            require(0 <= amounts[i] <= MAX_AMOUNT, "allocations fit 64 bits")
            self.balances[holders[i]] = amounts[i]

    @public
    def transfer(self, to: bytes, amount: int) -> None:
        require(len(to) == 20, "transfer recipient must be a 20-byte address")
        require(0 < amount <= MAX_AMOUNT, "transfer amount must be between 1 and 2**64-1")
        balance = self.balances[self.caller]
        require(balance >= amount, "insufficient balance")
        self.balances[self.caller] = balance - amount
        received = self.balances[to]
        require(received + amount <= MAX_AMOUNT, "recipient balance would exceed 2**64-1")
        self.balances[to] = received + amount
        self.emit("Transfer", sender=self.caller, to=to, amount=amount)

    @view
    def balance_of(self, owner: bytes) -> int:
        return self.balances[owner]
