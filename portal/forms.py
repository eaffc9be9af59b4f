"""Form helpers shared by the blueprints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, session, url_for
from flask_login import logout_user
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Regexp, ValidationError

from portal.db import db_session
from portal.services.accounts import LOCKOUT_MINUTES, MAX_FAILED_LOGINS, count_wrong_own_password
from portal.services.validation import InvalidInput, WrongOwnPassword, text_problem

T = TypeVar("T")
# At least 5 digits, and an extension as written: "(((((" and "-----" had been saved while
# "+44 20 7946 0000 ext. 12" was refused, told of no "." (a bad-input audit). At most 32
# characters, the column's.
PHONE_MESSAGE = (
    "Use digits, spaces and + ( ) - . only, with at least 5 digits; "
    'an extension as "ext. 12" or "x12".'
)
PHONE = Regexp(
    r"^(?=.{5,32}$)\+?(?:[ ()\-.]*[0-9]){5,}[ ()\-.]*(?:(?:[Ee]xt\.?|[Xx]) ?[0-9]{1,6})?$",
    message=PHONE_MESSAGE,
)


class PlainText:
    """A form field's `text_problem` (control or invisible characters; a name without a
    letter) as the field's error."""

    def __init__(self, *, lines: bool = False, name: bool = False) -> None:
        self.lines, self.name = lines, name

    def __call__(self, form: Any, field: Field) -> None:
        if problem := text_problem(field.data, lines=self.lines, name=self.name):
            raise ValidationError(problem)


def show_errors(form: FlaskForm, problem: InvalidInput) -> None:
    """Put a service's messages beside the matching fields (or at the top of the form)."""
    for field_name, message in problem.errors.items():
        field = getattr(form, field_name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def options(*pairs: tuple[str, str]) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def save(form: FlaskForm, change: Callable[[], T]) -> tuple[bool, T | None]:
    """Run a service call and commit it, or roll it all back and show its messages on `form`.

    Returns (saved, what the call returned). Nothing is half-saved: one commit, or none.
    """
    sql = db_session()
    try:
        result = change()
    except InvalidInput as problem:
        sql.rollback()
        if isinstance(problem, WrongOwnPassword):
            count_wrong_password(problem)
        show_errors(form, problem)
        return False, None
    sql.commit()
    return True, result


def count_wrong_password(problem: WrongOwnPassword) -> None:
    """A wrong password typed in a session counts toward the lock and is audited (the action
    itself rolled back); the one that locks the account ends this session, at the login page
    with the lock's message."""
    sql = db_session()
    left = count_wrong_own_password(sql, problem)
    sql.commit()
    if left == 1:
        flash(
            f"One more wrong password locks this account for {LOCKOUT_MINUTES} minutes and "
            "logs you out.",
            "error",
        )
    if left == 0:
        logout_user()
        session.clear()
        flash(
            f"After {MAX_FAILED_LOGINS} wrong passwords in a row while logged in, this account "
            f"is locked for {LOCKOUT_MINUTES} minutes, and you are logged out; an administrator "
            "can unlock it sooner.",
            "error",
        )
        abort(redirect(url_for("auth.login")))
