"""The one error type for input a user can get wrong: a message per offending form field."""

from __future__ import annotations


class InvalidInput(ValueError):
    """Raised by services; views put each message beside its field and show the form again."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors
