"""Password hashing (argon2id, argon2-cffi) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128
_hasher = PasswordHasher()
# Verifying against this when no account matches keeps sign-in timing the same for unknown e-mails.
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


def hash_password(password: str) -> str:
    """An argon2id hash of the password, with a fresh salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; spends the same effort when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older parameters and should be replaced at next sign-in."""
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, *, user_inputs: list[str] | tuple[str, ...] = ()) -> list[str]:
    """What is wrong with a proposed password, in words for the person choosing it ([] if fine).

    Checks the length and, with zxcvbn, common passwords, keyboard patterns and the person's own
    name or e-mail address.
    """
    if len(password) < MIN_LENGTH:
        return [f"Password must be {MIN_LENGTH} characters or more"]
    if len(password) > MAX_LENGTH:
        return [f"Password must be {MAX_LENGTH} characters or fewer"]
    result = zxcvbn(password, user_inputs=[value for value in user_inputs if value])
    if result["score"] < 3:
        advice = result["feedback"].get("warning") or "It is a common or easily guessed password"
        return [
            f"Choose a password that is harder to guess. {advice.rstrip('.')}. "
            "Three or four unrelated words work well"
        ]
    return []
