"""The admin page's forms. Every POST form carries Flask-WTF's CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional


class LoginForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass


class ActionForm(FlaskForm):
    """One change to one contact; which fields are required depends on the action."""

    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)])
    confirm_consent = BooleanField("I have this person's renewed consent to receive our texts")
    confirm_delete = BooleanField("I understand that deletion cannot be undone")


class BulkForm(FlaskForm):
    """A bulk action on the selected contacts (``ids``) or on a whole search (``scope=search``)."""

    action = SelectField("Action", validate_choice=False)
    scope = HiddenField(default="selected")
    reason = StringField("Reason", validators=[Optional(), Length(max=1000)])
    confirm_delete = BooleanField("I understand that deletion cannot be undone")
