"""The one error type for input a user can get wrong: a message per offending form field."""

from __future__ import annotations

import unicodedata

# Joiners that Persian and Indic names need; every other invisible formatting character is
# refused by `text_problem`.
JOINERS = {"\u200c", "\u200d"}

# Letters (category Lo) that render blank, default-ignorable code points: a name of Hangul
# fillers alone passed "A name needs letters." and showed blank (a bad-input audit).
BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}


class InvalidInput(ValueError):
    """Raised by services; views put each message beside its field and show the form again."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class WrongOwnPassword(InvalidInput):
    """A signed-in user's password, asked again before an action (signing, a new password,
    recovery codes), was wrong. Counted toward the account's lock like a login's, and audited
    (`portal.forms.save` does it after rolling the action back): a logged-in workstation had
    allowed unlimited guesses, untraced (a security audit)."""

    def __init__(self, field: str, message: str, *, account_id: int, purpose: str):
        super().__init__({field: message})
        self.account_id, self.purpose = account_id, purpose


def text_problem(text: str | None, *, lines: bool = False, name: bool = False) -> str | None:
    """Why a reader would not see `text` as typed, or None: a control character (a NUL in an
    amendment reason was stored and dropped from the PDF) or an invisible formatting one (a
    name of zero-width spaces showed blank; a right-to-left override shows "Dr. \u202eyeknod"
    as "Dr. donkey"). `lines`: tabs and line breaks allowed (a text area). `name`: at least
    one letter (a full name "0" was accepted). An audit of the accounts page found each."""
    for character in text or "":
        if lines and character in "\t\r\n":
            continue
        if character in "\r\n":  # a line break is no invisible character to its writer
            return "Write it on one line (a comma where a line would break)."
        if character == "\t":
            return "Replace the tab with a space."
        kind = unicodedata.category(character)
        if kind == "Cc" or (kind == "Cf" and character not in JOINERS):
            named = unicodedata.name(character, "").lower() or f"U+{ord(character):04X}"
            return f"Remove the invisible character ({named})."
    if name and (text or "").strip() and not any(_is_letter(c) for c in text or ""):
        return "A name needs letters."
    return None


def _is_letter(character: str) -> bool:
    """A letter a reader sees (`BLANK_LETTERS` are letters to Unicode, blank on screen)."""
    return character.isalpha() and character not in BLANK_LETTERS
