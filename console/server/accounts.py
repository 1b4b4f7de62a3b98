"""Staff accounts: passwords (Argon2id), roles, disabling, and login tokens.

Passwords are stored only as Argon2id hashes (CONSOLE.md §5: "a slow salted hash"). A successful
login gives the console a random token; the database keeps only its SHA-256 (a token is 256 bits
of randomness, so a fast hash is enough and a stolen database yields no usable tokens), with an
expiry and a revoked flag (issue 6: tokens expire and can be revoked). Disabling an account or
changing its password revokes its tokens.

Hashing is deliberately slow (tens of milliseconds), so the server calls ``verify_password`` in a
worker thread, never on the event loop.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from console.protocol.access import TEAM_ROLES
from console.protocol.messages import AuditAction, Role
from console.routing.policy import Policy, PolicyError
from console.server.audit import AuditLog, command_user
from console.server.store import Store

TOKEN_TTL = 12 * 3600.0  # a shift and a half; the console logs in again after that
_hasher = PasswordHasher()  # argon2-cffi defaults: Argon2id, RFC 9106 low-memory profile
# What an unknown account's password is checked against, so that a wrong name costs as much as a
# wrong password. A constant made once by this hasher (``_hasher.hash("fenliu: not a real
# password")``): hashing it at import cost every process that loads this module 0.1 s. A test
# checks it has the hasher's parameters (check_needs_rehash).
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$CT2HutFjIFfrH9pExOZhzg$nvtJDkfcfHllkMboJYl/InkA0diYnXyiy2k2mZSjKAI"
_DUMMY_HASH = DUMMY_HASH


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash and check passwords with ``hasher`` from now on, in this process (the test suite's
    cheap parameters: at the production cost its thousands of test accounts would take minutes).
    A hash keeps the parameters it was made with, so accounts made before still log in."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("fenliu: not a real password")




class AccountError(Exception):
    """A bad account operation (unknown name, duplicate, empty password)."""


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


def hash_password(password: str) -> str:
    if not password:
        raise AccountError("the password is empty")
    return _hasher.hash(password)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Account and token operations on the store. Writes join the store's current batch."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _audit(self, account_id: str, value: str, by: str | None, now: float | None = None) -> None:
        """Issue 14: an account change goes in the audit log, in the same batch as the change
        (``fenliu accounts`` commits both with one flush, or neither)."""
        AuditLog(self.store).record(time.time() if now is None else now, by or command_user("fenliu accounts"),
                                    AuditAction.ACCOUNT, account_id, value)

    def add(self, account_id: str, role: Role, password: str, *, now: float | None = None,
            by: str | None = None) -> Account:
        if not account_id or len(account_id) > 64 or not account_id.isprintable() or " " in account_id:
            raise AccountError(f"bad account name {account_id!r}: 1-64 printable characters, no spaces")
        if self.get(account_id) is not None:
            raise AccountError(f"account {account_id!r} already exists")
        self.store.execute(
            "INSERT INTO accounts (id, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (account_id, role.value, hash_password(password), time.time() if now is None else now),
        )
        self._audit(account_id, f"add:{role.value}", by, now)
        return Account(account_id, role, False)

    def get(self, account_id: str) -> Account | None:
        row = self.store.one("SELECT id, role, disabled FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else _row_account(row)

    def list(self) -> list[Account]:
        return [_row_account(r) for r in self.store.all("SELECT id, role, disabled FROM accounts ORDER BY id")]

    def set_password(self, account_id: str, password: str, *, by: str | None = None) -> None:
        self._require(account_id)
        self.store.execute("UPDATE accounts SET password_hash = ? WHERE id = ?", (hash_password(password), account_id))
        self.revoke_all(account_id)
        self._audit(account_id, "passwd", by)

    def disable(self, account_id: str, *, by: str | None = None) -> None:
        self._require(account_id)
        self.store.execute("UPDATE accounts SET disabled = 1 WHERE id = ?", (account_id,))
        self.revoke_all(account_id)
        self._audit(account_id, "disable", by)

    def enable(self, account_id: str, *, by: str | None = None) -> None:
        self._require(account_id)
        self.store.execute("UPDATE accounts SET disabled = 0 WHERE id = ?", (account_id,))
        self._audit(account_id, "enable", by)

    def _require(self, account_id: str) -> None:
        if self.get(account_id) is None:
            raise AccountError(f"no account {account_id!r}")

    # -- passwords --------------------------------------------------------------------------

    def password_hash(self, account_id: str) -> str | None:
        row = self.store.one("SELECT password_hash FROM accounts WHERE id = ? AND disabled = 0", (account_id,))
        return None if row is None else str(row[0])

    @staticmethod
    def verify_password(stored_hash: str | None, password: str) -> bool:
        """Slow on purpose; also slow for unknown accounts, so timing does not reveal names."""
        try:
            return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # -- tokens -----------------------------------------------------------------------------

    def issue_token(self, account_id: str, now: float, ttl: float = TOKEN_TTL) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        expires = now + ttl
        self.store.execute(
            "INSERT INTO tokens (hash, account, issued_at, expires_at) VALUES (?, ?, ?, ?)",
            (_token_digest(token), account_id, now, expires),
        )
        self.store.execute("DELETE FROM tokens WHERE expires_at < ?", (now - 86400.0,))
        return token, expires

    def check_token(self, token: str, now: float) -> Account | None:
        """The account a token belongs to, or None if unknown, expired, revoked or disabled."""
        row = self.store.one(
            "SELECT a.id, a.role, a.disabled FROM tokens t JOIN accounts a ON a.id = t.account "
            "WHERE t.hash = ? AND t.revoked = 0 AND t.expires_at > ? AND a.disabled = 0",
            (_token_digest(token), now),
        )
        return None if row is None else _row_account(row)

    def invalid_tokens(self, tokens: set[str]) -> set[str]:
        """Those of ``tokens`` that no longer give access: unknown, revoked, or of a disabled
        account (issue 10: a console logged in with one is cut off). Expiry is not checked: a
        console logged in stays until it reconnects."""
        if not tokens:
            return set()
        by_digest = {_token_digest(t): t for t in tokens}
        valid = {
            str(r["hash"]) for r in self.store.all(
                "SELECT t.hash FROM tokens t JOIN accounts a ON a.id = t.account WHERE t.revoked = 0"
                " AND a.disabled = 0 AND t.hash IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(by_digest)),),
            )
        }
        return {token for digest, token in by_digest.items() if digest not in valid}

    def token_expiry(self, token: str) -> float:
        row = self.store.one("SELECT expires_at FROM tokens WHERE hash = ?", (_token_digest(token),))
        return float(row["expires_at"]) if row is not None else 0.0

    def revoke_token(self, token: str) -> None:
        self.store.execute("UPDATE tokens SET revoked = 1 WHERE hash = ?", (_token_digest(token),))

    def revoke_all(self, account_id: str) -> None:
        self.store.execute("UPDATE tokens SET revoked = 1 WHERE account = ?", (account_id,))

    # -- the policy's agents ------------------------------------------------------------------

    def check_policy(self, policy: Policy) -> None:
        """Issue 3: the policy's agents are accounts (same ids); a policy naming an unknown one,
        or one whose role differs, is refused with the key path of the offending agent."""
        for i, spec in enumerate(policy.agents):
            account = self.get(spec.id)
            if account is None:
                raise PolicyError(
                    f"agents[{i}].id",
                    f"no account {spec.id!r} (create it: fenliu accounts add {spec.id} --role {spec.role.value})",
                )
