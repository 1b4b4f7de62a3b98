"""The SQL of agent accounts and their login tokens (``accounts``, ``tokens``). Hashing passwords
and tokens, the name rules and the audit entries are ``console.server.accounts``'s: this module
sees only hashes and digests."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from console.protocol.access import TEAM_ROLES
from console.protocol.messages import Role
from console.server.store import Store


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    role: Role
    disabled: bool

    @property
    def supervises(self) -> bool:
        """Supervisors and the main account see the team and can transfer (CONSOLE.md §5)."""
        return self.role in TEAM_ROLES


def _row_account(row: sqlite3.Row) -> Account:
    return Account(id=str(row["id"]), role=Role(row["role"]), disabled=bool(row["disabled"]))


class AccountRepository:
    """Statements of accounts and tokens on one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, account_id: str, role: Role, password_hash: str, at: float) -> None:
        """A new account."""
        self.store.execute("INSERT INTO accounts (id, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                           (account_id, role.value, password_hash, at))

    def get(self, account_id: str) -> Account | None:
        """The account, if it exists."""
        row = self.store.one("SELECT id, role, disabled FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else _row_account(row)

    def every(self) -> list[Account]:
        """Every account, by id."""
        return [_row_account(r) for r in self.store.all("SELECT id, role, disabled FROM accounts ORDER BY id")]

    def set_password_hash(self, account_id: str, password_hash: str) -> None:
        """An account's new password hash."""
        self.store.execute("UPDATE accounts SET password_hash = ? WHERE id = ?", (password_hash, account_id))

    def set_disabled(self, account_id: str, disabled: bool) -> None:
        """Disable or enable an account."""
        self.store.execute(f"UPDATE accounts SET disabled = {1 if disabled else 0} WHERE id = ?", (account_id,))

    def password_hash(self, account_id: str) -> str | None:
        """The password hash of an enabled account."""
        row = self.store.one("SELECT password_hash FROM accounts WHERE id = ? AND disabled = 0", (account_id,))
        return None if row is None else str(row[0])

    def add_token(self, digest: str, account_id: str, issued: float, expires: float, forget_before: float) -> None:
        """A new token (by its digest); tokens expired before ``forget_before`` go."""
        self.store.execute("INSERT INTO tokens (hash, account, issued_at, expires_at) VALUES (?, ?, ?, ?)",
                           (digest, account_id, issued, expires))
        self.store.execute("DELETE FROM tokens WHERE expires_at < ?", (forget_before,))

    def token_account(self, digest: str, now: float) -> Account | None:
        """The enabled account of a token neither revoked nor expired at ``now``."""
        row = self.store.one(
            "SELECT a.id, a.role, a.disabled FROM tokens t JOIN accounts a ON a.id = t.account "
            "WHERE t.hash = ? AND t.revoked = 0 AND t.expires_at > ? AND a.disabled = 0",
            (digest, now),
        )
        return None if row is None else _row_account(row)

    def valid_digests(self, digests: list[str]) -> set[str]:
        """Those of ``digests`` whose token is not revoked and whose account is enabled."""
        return {str(r["hash"]) for r in self.store.all(
            "SELECT t.hash FROM tokens t JOIN accounts a ON a.id = t.account WHERE t.revoked = 0"
            " AND a.disabled = 0 AND t.hash IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(digests)),),
        )}

    def token_expiry(self, digest: str) -> float | None:
        """When the token expires, if it exists."""
        row = self.store.one("SELECT expires_at FROM tokens WHERE hash = ?", (digest,))
        return float(row["expires_at"]) if row is not None else None

    def revoke_token(self, digest: str) -> None:
        """Revoke one token."""
        self.store.execute("UPDATE tokens SET revoked = 1 WHERE hash = ?", (digest,))

    def revoke_all(self, account_id: str) -> None:
        """Revoke every token of an account."""
        self.store.execute("UPDATE tokens SET revoked = 1 WHERE account = ?", (account_id,))
