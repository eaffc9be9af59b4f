"""Form helpers shared by the blueprints."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from portal.services.validation import InvalidInput


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
