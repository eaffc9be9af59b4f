"""Password policy and hashing.

bcrypt reads at most 72 bytes and the installed bcrypt raises ValueError beyond that, while a
hospital wants long passphrases (and 100 emoji are 400 bytes). So every password is first
normalised (Unicode NFC, so the same passphrase typed on two keyboards matches), hashed with
SHA-256 and base64-encoded (44 bytes, no NUL), and that is what bcrypt hashes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import unicodedata

import bcrypt
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 512
MIN_STRENGTH_SCORE = 3  # zxcvbn: "safely unguessable", about 10^8 guesses or more
MAX_CHECKED_CHARS = 72  # zxcvbn refuses longer input (and its time grows with length)
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
DEFAULT_BCRYPT_ROUNDS = 12  # about 0.25 s per hash here; tests lower it with BCRYPT_ROUNDS


def password_problems(
    password: str, *, username: str | None = None, personal: tuple[str, ...] = ()
) -> list[str]:
    """Why this password cannot be used; an empty list means it is acceptable.

    Besides length: not one of the common passwords zxcvbn ships (30,000, offline), and not
    guessable in under about 10^8 tries from those lists, keyboard patterns, repeats,
    sequences, dates and the user's own data (`username`, `personal`: name, e-mail)."""
    problems = []
    length = len(unicodedata.normalize("NFC", password))
    if length < MIN_PASSWORD_CHARS:
        problems.append(f"Use at least {MIN_PASSWORD_CHARS} characters (this one has {length}).")
    if length > MAX_PASSWORD_CHARS:
        problems.append(f"Use at most {MAX_PASSWORD_CHARS} characters (this one has {length}).")
    if password.strip() == "":
        problems.append("The password cannot be only spaces.")
    if username and username.lower() in password.lower():
        problems.append("The password must not contain the username.")
    if not problems:
        problems += _guessable(password, [username or "", *personal])
    return problems


def _guessable(password: str, personal: list[str]) -> list[str]:
    if password.lower() in COMMON_PASSWORDS:
        return ["This is one of the most common passwords; choose another."]
    # Each detail whole ("14/03/1958") and its parts ("Springfield").
    words = [w for text in personal for w in (text, *re.split(r"[\s@.,/\-]+", text)) if w]
    words += list(SITE_WORDS)
    verdict = zxcvbn(password[:MAX_CHECKED_CHARS], user_inputs=words)
    if verdict["score"] < MIN_STRENGTH_SCORE:
        advice = verdict["feedback"].get("warning") or "It is too easy to guess."
        return [f"{advice.rstrip('.')}. Try a passphrase of four or more unrelated words."]
    rest = _without_words(password, [w for w in words if len(w) >= 3])
    if rest != password and (
        not rest or zxcvbn(rest[:MAX_CHECKED_CHARS])["score"] < MIN_STRENGTH_SCORE
    ):
        # zxcvbn takes the spaces between words for strength: "Dana Doctor 2026" passed for
        # Dana Doctor, and "CardioPortal2026!" for anyone (an audit of the accounts page).
        return [
            "It is mostly your own details (name, e-mail, address, date of birth) or this "
            "portal's name: what is left is easy to guess. Try a passphrase of four or more "
            "unrelated words."
        ]
    return []


# The portal's own name and the words of a hospital's login page: an attacker tries them.
SITE_WORDS = ("cardioportal", "cardio", "portal", "hospital", "clinic", "ecg")


def _without_words(password: str, words: list[str]) -> str:
    """`password` without the given words (any case) and the separators around them."""
    rest = password
    for word in sorted(set(w.lower() for w in words), key=len, reverse=True):
        rest = re.sub(re.escape(word), " ", rest, flags=re.IGNORECASE)
    return " ".join(rest.split())


def _prehash(password: str) -> bytes:
    digest = hashlib.sha256(unicodedata.normalize("NFC", password).encode("utf-8")).digest()
    return base64.b64encode(digest)


def hash_password(password: str) -> str:
    rounds = int(os.environ.get("BCRYPT_ROUNDS", DEFAULT_BCRYPT_ROUNDS))
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except ValueError:  # malformed stored hash
        return False


# Lower-case letters and digits a reader cannot mistake for one another (no i, l, o, 0, 1).
UNMISTAKABLE = "abcdefghjkmnpqrstuvwxyz23456789"


def generate_temporary_password() -> str:
    """A password to hand over once (printed or shown); the user must change it at first
    login. Five groups of four unmistakable characters, 99 bits: "pDrXj4wR-DdBx-LJK-ifFwNwNG"
    (mixed case, look-alikes, and "-" or "_" inside a group as well as between) was hard for
    an older patient to copy (an audit)."""
    return "-".join("".join(secrets.choice(UNMISTAKABLE) for _ in range(4)) for _ in range(5))
