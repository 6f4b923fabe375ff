"""A fungible token: fixed supply minted to the deployer, transfers, allowances.

This file is contract source (deployed as text), not a module of the consortia package.
"""

from consortia_contract import Contract, Map, Value, public, require, view


class Token(Contract):
    symbol = Value(str)
    total_supply = Value(int)
    balances = Map(bytes, int)
    allowances = Map(bytes, Map(bytes, int))

    def init(self, symbol: str, supply: int) -> None:
        require(supply > 0, "supply must be positive")
        self.symbol = symbol
        self.total_supply = supply
        self.balances[self.caller] = supply
        self.emit("Transfer", sender=bytes(20), to=self.caller, amount=supply)

    @public
    def transfer(self, to: bytes, amount: int) -> None:
        self.move(self.caller, to, amount)

    @public
    def approve(self, spender: bytes, amount: int) -> None:
        require(amount >= 0, "amount must not be negative")
        self.allowances[self.caller][spender] = amount
        self.emit("Approval", owner=self.caller, spender=spender, amount=amount)

    @public
    def transfer_from(self, owner: bytes, to: bytes, amount: int) -> None:
        allowed = self.allowances[owner][self.caller]
        require(allowed >= amount, "allowance exceeded")
        self.allowances[owner][self.caller] = allowed - amount
        self.move(owner, to, amount)

    @view
    def balance_of(self, owner: bytes) -> int:
        return self.balances[owner]

    @view
    def allowance(self, owner: bytes, spender: bytes) -> int:
        return self.allowances[owner][spender]

    def move(self, sender: bytes, to: bytes, amount: int) -> None:
        require(len(to) == 20, "recipient must be a 20-byte address")
        require(amount > 0, "amount must be positive")
        balance = self.balances[sender]
        require(balance >= amount, "insufficient balance")
        self.balances[sender] = balance - amount
        self.balances[to] += amount
        self.emit("Transfer", sender=sender, to=to, amount=amount)
