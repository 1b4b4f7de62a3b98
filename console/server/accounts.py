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
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from console.protocol.messages import AuditAction, Role
from console.routing.policy import Policy, PolicyError
from console.server.audit import command_user
from console.server.repository.accounts import Account, AccountRepository
from console.server.repository.audit import AuditLog
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
        self.sql = AccountRepository(store)

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
        self.sql.add(account_id, role, hash_password(password), time.time() if now is None else now)
        self._audit(account_id, f"add:{role.value}", by, now)
        return Account(account_id, role, False)

    def get(self, account_id: str) -> Account | None:
        return self.sql.get(account_id)

    def list(self) -> list[Account]:
        return self.sql.every()

    def set_password(self, account_id: str, password: str, *, by: str | None = None) -> None:
        self._require(account_id)
        self.sql.set_password_hash(account_id, hash_password(password))
        self.revoke_all(account_id)
        self._audit(account_id, "passwd", by)

    def disable(self, account_id: str, *, by: str | None = None) -> None:
        self._require(account_id)
        self.sql.set_disabled(account_id, True)
        self.revoke_all(account_id)
        self._audit(account_id, "disable", by)

    def enable(self, account_id: str, *, by: str | None = None) -> None:
        self._require(account_id)
        self.sql.set_disabled(account_id, False)
        self._audit(account_id, "enable", by)

    def _require(self, account_id: str) -> None:
        if self.get(account_id) is None:
            raise AccountError(f"no account {account_id!r}")

    # -- passwords --------------------------------------------------------------------------

    def password_hash(self, account_id: str) -> str | None:
        return self.sql.password_hash(account_id)

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
        self.sql.add_token(_token_digest(token), account_id, now, expires, now - 86400.0)
        return token, expires

    def check_token(self, token: str, now: float) -> Account | None:
        """The account a token belongs to, or None if unknown, expired, revoked or disabled."""
        return self.sql.token_account(_token_digest(token), now)

    def invalid_tokens(self, tokens: set[str]) -> set[str]:
        """Those of ``tokens`` that no longer give access: unknown, revoked, or of a disabled
        account (issue 10: a console logged in with one is cut off). Expiry is not checked: a
        console logged in stays until it reconnects."""
        if not tokens:
            return set()
        by_digest = {_token_digest(t): t for t in tokens}
        valid = self.sql.valid_digests(list(by_digest))
        return {token for digest, token in by_digest.items() if digest not in valid}

    def token_expiry(self, token: str) -> float:
        expiry = self.sql.token_expiry(_token_digest(token))
        return expiry if expiry is not None else 0.0

    def revoke_token(self, token: str) -> None:
        self.sql.revoke_token(_token_digest(token))

    def revoke_all(self, account_id: str) -> None:
        self.sql.revoke_all(account_id)

    # -- the policy's agents ------------------------------------------------------------------

    def _where_options(self) -> str:
        """The options that make ``fenliu accounts`` reach this store's shop (for hints): on
        PostgreSQL the URL the server was given (not repeated here: it may hold a password) and
        the shop; on SQLite the data folder, and the shop when it is one of ``shops/``."""
        store = self.store
        if store.dialect == "postgresql":
            return f" --store URL --shop {getattr(store, 'shop', 'default')}"
        folder = store.path.parent
        if folder.parent.name == "shops":
            return f" --data {folder.parent.parent} --shop {folder.name}"
        return f" --data {folder}"

    def check_policy(self, policy: Policy) -> None:
        """Issue 3: the policy's agents are accounts (same ids); a policy naming an unknown one,
        or one whose role differs, is refused with the key path of the offending agent."""
        for i, spec in enumerate(policy.agents):
            account = self.get(spec.id)
            if account is None:
                raise PolicyError(
                    f"agents[{i}].id",
                    f"no account {spec.id!r} (create it: fenliu accounts add {spec.id} --role {spec.role.value}"
                    f"{self._where_options()})",
                )
