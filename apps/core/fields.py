from django.db import models

from . import crypto

MASK = "••••••"


class EncryptedTextField(models.TextField):
    """A text field stored encrypted (Fernet token); Python code sees the plaintext.

    Empty values are stored as "" so "not set" stays queryable. Audit and serializers show
    MASK instead of the value (see `is_secret`).
    """

    is_secret = True

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt(value)

    def to_python(self, value):
        return value
